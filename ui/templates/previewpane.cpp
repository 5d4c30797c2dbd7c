#include "previewpane.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QWebEngineProfile>
#include <QWebEngineSettings>
#include <QWebEngineUrlRequestInterceptor>
#include <QWebEngineView>

#include <atomic>

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
    connect(m_view, &QWebEngineView::loadFinished, this, [this] {
        m_loading = false;
        if (m_reloadPending) {
            // Only the newest HTML is worth showing: the ones in between are skipped.
            m_reloadPending = false;
            reload();
            return;
        }
        ++m_loads;
        const int blocked = m_interceptor->blocked;
        m_blocked->setText(blocked ? tr("%n remote request(s) blocked", nullptr, blocked)
                                   : QString());
        Q_EMIT htmlLoaded();
    });
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
    // The page must go before its profile.
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
    reload();
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
    reload();
}

void PreviewPane::setRemoteImagesAllowed(bool allowed)
{
    if (m_images->isChecked() != allowed)
        m_images->setChecked(allowed);
    m_interceptor->allowed = allowed;
    reload();
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

void PreviewPane::reload()
{
    m_html = m_dark->isChecked() ? darkModeStyle + m_rendered : m_rendered;
    // A new load while one is in flight would queue behind it in the web engine's process; with
    // a large message and fast typing they pile up. Keep one in flight and one waiting.
    if (m_loading) {
        m_reloadPending = true;
        return;
    }
    m_loading = true;
    m_interceptor->blocked = 0;
    // A base URL of its own scheme-less kind: relative links resolve to nothing fetchable.
    m_view->setHtml(m_html, QUrl(QStringLiteral("about:blank")));
}
