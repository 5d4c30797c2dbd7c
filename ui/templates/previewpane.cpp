#include "previewpane.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPointer>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QWebEngineProfile>
#include <QWebEngineScript>
#include <QWebEngineSettings>
#include <QWebEngineUrlRequestInterceptor>
#include <QWebEngineView>

#include <algorithm>
#include <atomic>
#include <utility>

// Remote content stays out of the preview until allowed, as mail clients block remote images by
// default: a preview that fetched them would also tell the sender's tracking pixels it was opened.
// data: and cid: parts are inline and always shown. Runs on WebEngine's IO thread.
class RemoteContentInterceptor final : public QWebEngineUrlRequestInterceptor
{
public:
    using QWebEngineUrlRequestInterceptor::QWebEngineUrlRequestInterceptor;

    void interceptRequest(QWebEngineUrlRequestInfo &info) override
    {
        const QString scheme = info.requestUrl().scheme();
        if (scheme == u"data" || scheme == u"cid" || scheme == u"about" || scheme == u"blob")
            return;
        if (info.resourceType() == QWebEngineUrlRequestInfo::ResourceTypeMainFrame
            && info.navigationType() != QWebEngineUrlRequestInfo::NavigationTypeLink)
            return;
        if (allowed && info.resourceType() == QWebEngineUrlRequestInfo::ResourceTypeImage
            && (scheme == u"http" || scheme == u"https"))
            return;
        info.block(true);
        ++blocked;
    }

    std::atomic<bool> allowed = false;
    std::atomic<int> blocked = 0;
};

namespace {

// A page that shows a message and goes nowhere: link clicks and scripts' navigations are refused.
class MailPage final : public QWebEnginePage
{
public:
    using QWebEnginePage::QWebEnginePage;

protected:
    bool acceptNavigationRequest(const QUrl &url, NavigationType type, bool isMainFrame) override
    {
        Q_UNUSED(isMainFrame)
        // setHtml() loads the document as a data: URL of type Typed/Other; nothing else may load.
        if (type == NavigationTypeLinkClicked || type == NavigationTypeFormSubmitted)
            return false;
        return url.scheme() == u"data" || url.scheme() == u"about";
    }
};

// A simulation of the dark mode of clients that invert colours (Outlook, Gmail's apps): the page is
// inverted and hue-rotated, images are turned back. Real clients differ; the label says so.
const QString darkModeStyle = QStringLiteral(
        "<style>html{filter:invert(1) hue-rotate(180deg);background:#fff}"
        "img,picture,video,[style*=\"background-image\"]{filter:invert(1) hue-rotate(180deg)}"
        "</style>");

// Makes the shown document equal to the one parsed from its argument, changing only what
// differs: for each element, the children equal at the start and at the end stay; those in
// between are compared pairwise when their counts match, and replaced otherwise.
const QString morphScript = QStringLiteral(R"js((function (html) {
  function morph(shown, wanted) {
    if (shown.isEqualNode(wanted))
      return;
    if (shown.nodeType !== 1 || shown.nodeName !== wanted.nodeName) {
      shown.replaceWith(wanted);
      return;
    }
    for (var i = shown.attributes.length - 1; i >= 0; --i) {
      var name = shown.attributes[i].name;
      if (!wanted.hasAttribute(name))
        shown.removeAttribute(name);
    }
    for (var i = 0; i < wanted.attributes.length; ++i) {
      var attribute = wanted.attributes[i];
      if (shown.getAttribute(attribute.name) !== attribute.value)
        shown.setAttribute(attribute.name, attribute.value);
    }
    var have = Array.from(shown.childNodes), want = Array.from(wanted.childNodes);
    var first = 0;
    while (first < have.length && first < want.length && have[first].isEqualNode(want[first]))
      ++first;
    var haveEnd = have.length, wantEnd = want.length;
    while (haveEnd > first && wantEnd > first
           && have[haveEnd - 1].isEqualNode(want[wantEnd - 1])) {
      --haveEnd;
      --wantEnd;
    }
    if (haveEnd - first === wantEnd - first) {
      for (var i = first; i < haveEnd; ++i)
        morph(have[i], want[i]);
      return;
    }
    var before = haveEnd < have.length ? have[haveEnd] : null;
    for (var i = first; i < haveEnd; ++i)
      shown.removeChild(have[i]);
    for (var i = first; i < wantEnd; ++i)
      shown.insertBefore(want[i], before);
  }
  morph(document.documentElement,
        new DOMParser().parseFromString(html, 'text/html').documentElement);
  return true;
}))js");

} // namespace

PreviewPane::PreviewPane(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    m_width = new QComboBox(this);
    m_width->setObjectName(QStringLiteral("previewWidth"));
    m_width->addItem(tr("Desktop"));
    m_width->addItem(tr("Phone (%1 px)").arg(phoneWidth));
    m_dark = new QCheckBox(tr("Dark mode (approximation)"), this);
    m_dark->setObjectName(QStringLiteral("previewDark"));
    m_dark->setToolTip(tr("Inverts colours as Outlook and Gmail's apps roughly do. Every client "
                          "has its own dark mode: check the real ones before a big send."));
    m_images = new QCheckBox(tr("Load remote images"), this);
    m_images->setObjectName(QStringLiteral("previewImages"));
    m_blocked = new QLabel(this);
    m_blocked->setObjectName(QStringLiteral("previewBlocked"));
    bar->addWidget(m_width);
    bar->addWidget(m_dark);
    bar->addWidget(m_images);
    bar->addStretch(1);
    bar->addWidget(m_blocked);
    layout->addLayout(bar);

    m_subject = new QLabel(this);
    m_subject->setObjectName(QStringLiteral("previewSubject"));
    m_subject->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_subject->setTextFormat(Qt::PlainText);
    layout->addWidget(m_subject);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("previewTabs"));
    m_frame = new QWidget(m_tabs);
    auto *frameLayout = new QHBoxLayout(m_frame);
    frameLayout->setContentsMargins(0, 0, 0, 0);
    m_profile = new QWebEngineProfile(this); // off the record: no cookies or cache on disk
    m_interceptor = new RemoteContentInterceptor(m_profile);
    m_profile->setUrlRequestInterceptor(m_interceptor);
    m_view = new QWebEngineView(m_frame);
    m_view->setObjectName(QStringLiteral("previewHtml"));
    auto *page = new MailPage(m_profile, m_view);
    QWebEngineSettings *settings = page->settings();
    settings->setAttribute(QWebEngineSettings::JavascriptEnabled, false);
    settings->setAttribute(QWebEngineSettings::AutoLoadImages, true);
    settings->setAttribute(QWebEngineSettings::LocalContentCanAccessRemoteUrls, false);
    settings->setAttribute(QWebEngineSettings::PluginsEnabled, false);
    settings->setAttribute(QWebEngineSettings::ErrorPageEnabled, false);
    m_view->setPage(page);
    m_view->setContextMenuPolicy(Qt::NoContextMenu);
    connect(m_view, &QWebEngineView::loadFinished, this, &PreviewPane::finished);
    frameLayout->addStretch(0);
    frameLayout->addWidget(m_view, 1);
    frameLayout->addStretch(0);
    m_tabs->addTab(m_frame, tr("HTML"));

    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_text = new QPlainTextEdit(m_tabs);
    m_text->setObjectName(QStringLiteral("previewText"));
    m_text->setReadOnly(true);
    m_text->setFont(fixed);
    m_tabs->addTab(m_text, tr("Text"));
    m_mime = new QPlainTextEdit(m_tabs);
    m_mime->setObjectName(QStringLiteral("previewMime"));
    m_mime->setReadOnly(true);
    m_mime->setFont(fixed);
    m_mime->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_tabs->addTab(m_mime, tr("MIME"));
    layout->addWidget(m_tabs, 1);

    connect(m_width, &QComboBox::currentIndexChanged, this,
            [this](int index) { setWidth(index == 1 ? Width::Phone : Width::Desktop); });
    connect(m_dark, &QCheckBox::toggled, this, &PreviewPane::setDarkMode);
    connect(m_tabs, &QTabWidget::currentChanged, this, &PreviewPane::fillVisibleTab);
    connect(m_images, &QCheckBox::toggled, this, &PreviewPane::setRemoteImagesAllowed);
}

PreviewPane::~PreviewPane()
{
    // The page must go before its profile. It answers a script still running with nothing as
    // it goes, which must not start a load on it.
    m_closing = true;
    delete m_view;
}

void PreviewPane::showResult(const Templates::Preview::Result &result)
{
    m_subject->setText(tr("Subject: %1").arg(result.subject));
    m_textContent = result.text;
    m_mimeContent = QString::fromUtf8(result.mime);
    m_textStale = m_mimeStale = true;
    fillVisibleTab();
    m_rendered = result.html;
    refresh(Refresh::Swap);
}

void PreviewPane::setWidth(Width width)
{
    if (width == Width::Phone) {
        m_view->setFixedWidth(phoneWidth);
    } else {
        m_view->setMinimumWidth(0);
        m_view->setMaximumWidth(QWIDGETSIZE_MAX);
    }
    const int index = width == Width::Phone ? 1 : 0;
    if (m_width->currentIndex() != index)
        m_width->setCurrentIndex(index);
}

void PreviewPane::setDarkMode(bool on)
{
    if (m_dark->isChecked() != on)
        m_dark->setChecked(on);
    refresh(Refresh::Load);
}

void PreviewPane::setRemoteImagesAllowed(bool allowed)
{
    if (m_images->isChecked() != allowed)
        m_images->setChecked(allowed);
    m_interceptor->allowed = allowed;
    refresh(Refresh::Load); // images already refused are fetched only by a new load
}

int PreviewPane::blockedRequests() const
{
    return m_interceptor->blocked;
}

QString PreviewPane::text() const
{
    return m_textContent;
}

QString PreviewPane::mime() const
{
    return m_mimeContent;
}

void PreviewPane::fillVisibleTab()
{
    if (m_textStale && m_tabs->currentWidget() == m_text) {
        m_text->setPlainText(m_textContent);
        m_textStale = false;
    }
    if (m_mimeStale && m_tabs->currentWidget() == m_mime) {
        m_mime->setPlainText(m_mimeContent);
        m_mimeStale = false;
    }
}

QString PreviewPane::subject() const
{
    return m_subject->text();
}

void PreviewPane::refresh(Refresh how)
{
    m_html = m_dark->isChecked() ? darkModeStyle + m_rendered : m_rendered;
    // A new load while one is in flight would queue behind it in the web engine's process; with
    // a large message and fast typing they pile up. Keep one in flight and one waiting: only the
    // newest HTML is worth showing, the ones in between are skipped.
    if (m_inFlight != Refresh::None) {
        m_pending = std::max(m_pending, how);
        return;
    }
    start(how);
}

void PreviewPane::start(Refresh how)
{
    m_interceptor->blocked = 0;
    const bool doctype = m_html.trimmed().startsWith(u"<!doctype", Qt::CaseInsensitive);
    if (how == Refresh::Swap && m_documentShown && doctype == m_shownWithDoctype) {
        m_inFlight = Refresh::Swap;
        // Changing the shown document in place is several times faster than loading a new one,
        // and keeps the reader's scroll position while the author types. The new HTML is parsed
        // into an inert document (its scripts are marked as run, and scripts are off in the
        // page's world anyway); only the nodes that differ are moved into the shown one, so the
        // engine lays out what changed and has little to collect. Moved images go through the
        // interceptor as a load's would. The script runs in a world of its own, which scripts
        // being off does not stop.
        const QString literal = QString::fromUtf8(
                QJsonDocument(QJsonArray{m_html}).toJson(QJsonDocument::Compact));
        m_view->page()->runJavaScript(morphScript + u'(' + literal + u"[0])",
                                      QWebEngineScript::ApplicationWorld,
                                      [pane = QPointer(this)](const QVariant &swapped) {
                                          if (pane)
                                              pane->finished(swapped.toBool());
                                      });
        return;
    }
    m_inFlight = Refresh::Load;
    m_shownWithDoctype = doctype;
    // A base URL of its own scheme-less kind: relative links resolve to nothing fetchable.
    m_view->setHtml(m_html, QUrl(QStringLiteral("about:blank")));
}

void PreviewPane::finished(bool ok)
{
    if (m_closing)
        return;
    const Refresh done = std::exchange(m_inFlight, Refresh::None);
    m_documentShown = ok;
    if (!ok && done == Refresh::Swap && m_pending == Refresh::None)
        m_pending = Refresh::Load; // a failed swap: show it the slow way
    if (m_pending != Refresh::None) {
        const Refresh next = std::exchange(m_pending, Refresh::None);
        start(next);
        return;
    }
    ++m_loads;
    showBlocked();
    // The images of a swapped tree are requested as it is laid out, after this.
    QTimer::singleShot(500, this, &PreviewPane::showBlocked);
    Q_EMIT htmlLoaded();
}

void PreviewPane::showBlocked()
{
    const int blocked = m_interceptor->blocked;
    m_blocked->setText(blocked ? tr("%n remote request(s) blocked", nullptr, blocked) : QString());
}
