#include "templateeditor.h"

#include "codeeditor.h"
#include "diffview.h"
#include "handlebarshighlighter.h"
#include "previewpane.h"
#include "previewrenderer.h"
#include "sendtestdialog.h"

#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <set>

namespace {

// "a.b" paths of a JSON sample, for completion; arrays contribute their first item's keys.
void collectKeys(const QJsonValue &value, const QString &prefix, std::set<QString> *out, int depth)
{
    if (depth > 6)
        return;
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it) {
            const QString path = prefix.isEmpty() ? it.key() : prefix + u'.' + it.key();
            out->insert(path);
            collectKeys(it.value(), path, out, depth + 1);
        }
    } else if (value.isArray() && !value.toArray().isEmpty()) {
        // Inside {{#each list}} the item's keys are read directly.
        collectKeys(value.toArray().first(), QString(), out, depth + 1);
    }
}

QString combined(const Templates::TemplateContent &c)
{
    QString out = QStringLiteral("Subject: ") + c.subject + QStringLiteral("\n\n") + c.html;
    if (!c.text.isEmpty())
        out += QStringLiteral("\n\n--- text part ---\n") + c.text;
    return out;
}

} // namespace

TemplateEditor::TemplateEditor(QWidget *parent)
    : QWidget(parent)
{
    m_renderer = new PreviewRenderer(this);
    connect(m_renderer, &PreviewRenderer::ready, this, &TemplateEditor::handlePreview);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto *bar = new QHBoxLayout;
    m_title = new QLabel(tr("No template open"), this);
    m_title->setObjectName(QStringLiteral("editorTitle"));
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_localeBox = new QComboBox(this);
    m_localeBox->setObjectName(QStringLiteral("localeBox"));
    m_localeBox->setEditable(true);
    m_localeBox->setInsertPolicy(QComboBox::InsertAlphabetically);
    m_localeBox->setToolTip(tr("The language variant. Type a new code (e.g. de, fr-CA) to add one; "
                               "recipients without a variant get the default."));
    m_localeBox->setMinimumContentsLength(6);
    m_sampleBox = new QComboBox(this);
    m_sampleBox->setObjectName(QStringLiteral("sampleBox"));
    m_sampleBox->setToolTip(tr("The data the preview uses: a named sample, or a recipient's data "
                               "from a message already sent."));
    m_sampleBox->setMinimumContentsLength(18);
    m_saveButton = new QPushButton(tr("Save version"), this);
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_saveButton->setDefault(true);
    m_historyButton = new QPushButton(tr("History…"), this);
    m_historyButton->setObjectName(QStringLiteral("historyButton"));
    m_sendTestButton = new QPushButton(tr("Send test…"), this);
    m_sendTestButton->setObjectName(QStringLiteral("sendTestButton"));
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("editorStatus"));
    bar->addWidget(m_title);
    bar->addSpacing(12);
    bar->addWidget(new QLabel(tr("Locale"), this));
    bar->addWidget(m_localeBox);
    bar->addWidget(new QLabel(tr("Data"), this));
    bar->addWidget(m_sampleBox);
    bar->addStretch(1);
    bar->addWidget(m_status);
    bar->addWidget(m_sendTestButton);
    bar->addWidget(m_historyButton);
    bar->addWidget(m_saveButton);
    layout->addLayout(bar);

    m_banner = new QLabel(this);
    m_banner->setObjectName(QStringLiteral("editorBanner"));
    m_banner->setWordWrap(true);
    m_banner->hide();
    layout->addWidget(m_banner);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    auto *sourceSide = new QWidget(splitter);
    auto *sourceLayout = new QVBoxLayout(sourceSide);
    sourceLayout->setContentsMargins(0, 0, 0, 0);
    m_subject = new QLineEdit(sourceSide);
    m_subject->setObjectName(QStringLiteral("subjectEdit"));
    m_subject->setPlaceholderText(tr("Subject, e.g. Welcome, {{first_name}}!"));
    sourceLayout->addWidget(m_subject);
    m_sourceTabs = new QTabWidget(sourceSide);
    m_sourceTabs->setObjectName(QStringLiteral("sourceTabs"));
    m_html = new CodeEditor(m_sourceTabs);
    m_html->setObjectName(QStringLiteral("htmlEditor"));
    new HandlebarsHighlighter(m_html->document(), true);
    m_text = new CodeEditor(m_sourceTabs);
    m_text->setObjectName(QStringLiteral("textEditor"));
    m_text->setPlaceholderText(tr("Empty: the text part is generated from the HTML."));
    new HandlebarsHighlighter(m_text->document(), false);
    auto *sampleTab = new QWidget(m_sourceTabs);
    auto *sampleLayout = new QVBoxLayout(sampleTab);
    sampleLayout->setContentsMargins(4, 4, 4, 4);
    auto *sampleBar = new QHBoxLayout;
    m_sampleName = new QLineEdit(sampleTab);
    m_sampleName->setObjectName(QStringLiteral("sampleName"));
    m_sampleName->setPlaceholderText(tr("Sample name"));
    auto *saveSample = new QPushButton(tr("Save sample"), sampleTab);
    saveSample->setObjectName(QStringLiteral("saveSampleButton"));
    sampleBar->addWidget(m_sampleName, 1);
    sampleBar->addWidget(saveSample);
    sampleLayout->addLayout(sampleBar);
    m_sample = new CodeEditor(sampleTab);
    m_sample->setObjectName(QStringLiteral("sampleEditor"));
    m_sample->setPlainText(QStringLiteral("{}"));
    sampleLayout->addWidget(m_sample, 1);
    m_sourceTabs->addTab(m_html, tr("HTML"));
    m_sourceTabs->addTab(m_text, tr("Text"));
    m_sourceTabs->addTab(sampleTab, tr("Sample data"));
    sourceLayout->addWidget(m_sourceTabs, 1);

    auto *previewSide = new QSplitter(Qt::Vertical, splitter);
    m_preview = new PreviewPane(previewSide);
    auto *checksBox = new QWidget(previewSide);
    auto *checksLayout = new QVBoxLayout(checksBox);
    checksLayout->setContentsMargins(0, 4, 0, 0);
    auto *checksTitle = new QLabel(tr("Pre-send checks"), checksBox);
    checksTitle->setFont(titleFont);
    checksLayout->addWidget(checksTitle);
    m_checks = new QListWidget(checksBox);
    m_checks->setObjectName(QStringLiteral("checksList"));
    m_checks->setWordWrap(true);
    m_checks->setResizeMode(QListView::Adjust);
    m_checks->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    checksLayout->addWidget(m_checks, 1);
    previewSide->addWidget(m_preview);
    previewSide->addWidget(checksBox);
    previewSide->setStretchFactor(0, 3);
    previewSide->setStretchFactor(1, 2);
    splitter->addWidget(sourceSide);
    splitter->addWidget(previewSide);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    layout->addWidget(splitter, 1);

    m_previewTimer = new QTimer(this);
    m_previewTimer->setSingleShot(true);
    m_previewTimer->setInterval(previewDelayMs);
    connect(m_previewTimer, &QTimer::timeout, this, &TemplateEditor::requestPreview);
    m_draftTimer = new QTimer(this);
    m_draftTimer->setSingleShot(true);
    m_draftTimer->setInterval(draftDelayMs);
    connect(m_draftTimer, &QTimer::timeout, this, &TemplateEditor::flushDraft);

    connect(m_subject, &QLineEdit::textChanged, this, &TemplateEditor::handleEdited);
    connect(m_html, &QPlainTextEdit::textChanged, this, &TemplateEditor::handleEdited);
    connect(m_text, &QPlainTextEdit::textChanged, this, &TemplateEditor::handleEdited);
    connect(m_sample, &QPlainTextEdit::textChanged, this, [this] {
        // Completion follows the keys of the sample data.
        std::set<QString> keys;
        collectKeys(QJsonDocument::fromJson(m_sample->toPlainText().toUtf8()).object(), QString(),
                    &keys, 0);
        m_sampleKeys = QStringList(keys.cbegin(), keys.cend());
        updateCompletions(m_lastPreview.variables);
        m_previewTimer->start();
    });
    connect(m_saveButton, &QPushButton::clicked, this, [this] { save(); });
    connect(m_historyButton, &QPushButton::clicked, this, &TemplateEditor::showHistory);
    connect(m_sendTestButton, &QPushButton::clicked, this, &TemplateEditor::showSendTest);
    auto *saveShortcut = new QShortcut(QKeySequence::Save, this);
    connect(saveShortcut, &QShortcut::activated, this, [this] { save(); });
    connect(m_localeBox, &QComboBox::textActivated, this, &TemplateEditor::openLocale);
    connect(m_sampleBox, &QComboBox::activated, this, [this](int index) {
        const QByteArray json = m_sampleBox->itemData(index).toByteArray();
        if (!json.isEmpty())
            setSampleJson(json);
        if (m_sampleBox->itemData(index, Qt::UserRole + 1).toBool())
            m_sampleName->setText(m_sampleBox->itemText(index));
    });
    connect(saveSample, &QPushButton::clicked, this, [this] {
        if (!m_store || !m_info.id)
            return;
        const QString name = m_sampleName->text().trimmed().isEmpty()
                ? QStringLiteral("default")
                : m_sampleName->text().trimmed();
        m_store->saveSample(m_info.id, {name, m_sample->toPlainText().toUtf8()}, this,
                            [this, name](const Common::Result<bool> &ok) {
                                if (!ok)
                                    return setStatus(ok.error().message);
                                setStatus(tr("Sample \"%1\" saved").arg(name));
                                loadSamples();
                            });
    });
    setEnabled(false);
}

TemplateEditor::~TemplateEditor()
{
    flushDraft();
}

void TemplateEditor::hideEvent(QHideEvent *event)
{
    flushDraft();
    QWidget::hideEvent(event);
}

Templates::TemplateContent TemplateEditor::content() const
{
    return {m_subject->text(), m_html->toPlainText(), m_text->toPlainText()};
}

void TemplateEditor::setStatus(const QString &text)
{
    m_status->setText(text);
}

QString TemplateEditor::status() const
{
    return m_status->text();
}

void TemplateEditor::setBanner(const QString &text)
{
    m_banner->setText(text);
    m_banner->setVisible(!text.isEmpty());
}

QString TemplateEditor::banner() const
{
    return m_banner->text();
}

void TemplateEditor::setKind(const QString &kind)
{
    m_info.kind = kind;
    m_previewTimer->start();
}

void TemplateEditor::applyContent(const Templates::TemplateContent &c)
{
    m_applying = true;
    m_subject->setText(c.subject);
    m_html->setPlainText(c.html);
    m_text->setPlainText(c.text);
    m_applying = false;
    m_previewTimer->start();
}

void TemplateEditor::setContent(const Templates::TemplateContent &c)
{
    setEnabled(true);
    applyContent(c);
}

void TemplateEditor::setSampleJson(const QByteArray &json)
{
    const QJsonDocument document = QJsonDocument::fromJson(json);
    m_sample->setPlainText(document.isNull() ? QString::fromUtf8(json)
                                             : QString::fromUtf8(document.toJson()));
}

void TemplateEditor::handleEdited()
{
    m_previewTimer->start();
    if (m_applying)
        return;
    if (m_store && m_info.id) {
        m_draftPending = true;
        m_draftTimer->start();
        setStatus(isModified() ? tr("Unsaved changes") : QString());
    }
}

void TemplateEditor::requestPreview()
{
    Templates::Preview::Request request;
    request.kind = m_info.kind.isEmpty() ? QStringLiteral("transactional") : m_info.kind;
    request.locale = m_locale;
    request.subject = m_subject->text();
    request.html = m_html->toPlainText();
    request.text = m_text->toPlainText();
    request.sampleJson = m_sample->toPlainText().toUtf8();
    m_renderer->request(std::move(request));
}

void TemplateEditor::updateCompletions(const QStringList &variables)
{
    std::set<QString> names(m_sampleKeys.cbegin(), m_sampleKeys.cend());
    for (const QString &v : variables) {
        if (!v.contains(QLatin1String("[]")))
            names.insert(v);
    }
    const QStringList list(names.cbegin(), names.cend());
    m_html->setCompletions(list);
    m_text->setCompletions(list);
}

void TemplateEditor::handlePreview(const Templates::Preview::Result &result)
{
    ++m_previews;
    m_lastPreview = result;
    // Markers where the engine says; the first problem of each part.
    int htmlLine = 0, htmlColumn = 0, textLine = 0, textColumn = 0;
    QString htmlMessage, textMessage, subjectMessage;
    for (const auto &problem : result.problems) {
        if (problem.part == u"html" && !htmlLine) {
            htmlLine = std::max(1, problem.line);
            htmlColumn = problem.column;
            htmlMessage = problem.message;
        } else if (problem.part == u"text" && !textLine) {
            textLine = std::max(1, problem.line);
            textColumn = problem.column;
            textMessage = problem.message;
        } else if (problem.part == u"subject" && subjectMessage.isEmpty()) {
            subjectMessage = problem.message;
        }
    }
    m_html->setErrorMarker(htmlLine, htmlColumn, htmlMessage);
    m_text->setErrorMarker(textLine, textColumn, textMessage);
    if (m_subject->toolTip() != subjectMessage) {
        m_subject->setToolTip(subjectMessage);
        m_subject->setStyleSheet(subjectMessage.isEmpty()
                                         ? QString()
                                         : QStringLiteral("QLineEdit{border:1px solid #d1242f;"
                                                          "background:#fff0ef}"));
    }

    if (result.rendered)
        m_preview->showResult(result);
    if (m_sendTestDialog)
        m_sendTestDialog->setMessage(result);
    updateCompletions(result.variables);

    m_checks->clear();
    const auto add = [this](QStyle::StandardPixmap icon, const QString &text, const QString &code,
                            const QString &tip) {
        auto *item = new QListWidgetItem(style()->standardIcon(icon), text, m_checks);
        item->setData(Qt::UserRole, code);
        item->setToolTip(tip.isEmpty() ? text : text + u'\n' + tip);
    };
    for (const auto &problem : result.problems) {
        const QString where = problem.part == u"html" ? tr("HTML")
                : problem.part == u"text"             ? tr("Text")
                : problem.part == u"subject"          ? tr("Subject")
                                                      : tr("Sample data");
        add(QStyle::SP_MessageBoxCritical, where + QStringLiteral(": ") + problem.message,
            QStringLiteral("syntax"), {});
    }
    for (const auto &finding : result.findings) {
        const auto icon = finding.severity == Templates::CheckFinding::Severity::Error
                ? QStyle::SP_MessageBoxCritical
                : finding.severity == Templates::CheckFinding::Severity::Warning
                ? QStyle::SP_MessageBoxWarning
                : QStyle::SP_MessageBoxInformation;
        add(icon, finding.message, finding.code, finding.url);
    }
    Q_EMIT previewUpdated();
}

QStringList TemplateEditor::findingCodes() const
{
    QStringList codes;
    for (int i = 0; i < m_checks->count(); ++i)
        codes.append(m_checks->item(i)->data(Qt::UserRole).toString());
    return codes;
}

void TemplateEditor::open(qint64 templateId, const QString &locale)
{
    if (!m_store)
        return;
    flushDraft();
    const quint64 token = ++m_loadToken;
    m_store->info(templateId, this,
                  [this, locale, token](const Common::Result<Templates::TemplateInfo> &info) {
                      if (token != m_loadToken)
                          return; // another template was opened since
                      if (!info) {
                          setStatus(info.error().message);
                          return Q_EMIT failed(info.error().message);
                      }
                      m_info = *info;
                      m_title->setText(tr("%1 · %2").arg(m_info.name, m_info.kind));
                      m_localeBox->clear();
                      m_localeBox->addItems(m_info.locales);
                      loadSamples();
                      loadLocale(locale.isEmpty() ? m_info.defaultLocale : locale);
                  });
}

void TemplateEditor::openLocale(const QString &locale)
{
    const QString code = locale.trimmed();
    if (code.isEmpty() || code == m_locale || !m_info.id)
        return;
    flushDraft();
    loadLocale(code);
}

void TemplateEditor::loadLocale(const QString &locale)
{
    // Answers to an earlier open or locale switch that arrive late are dropped.
    const quint64 token = ++m_loadToken;
    m_locale = locale;
    if (m_localeBox->findText(locale) < 0)
        m_localeBox->addItem(locale);
    m_localeBox->setCurrentText(locale);
    const qint64 id = m_info.id;
    m_store->latest(
            id, locale, this,
            [this, id, locale,
             token](const Common::Result<std::optional<Templates::TemplateVersionInfo>> &v) {
                if (token != m_loadToken)
                    return;
                if (!v)
                    return setStatus(v.error().message);
                Templates::TemplateContent latest;
                QString banner;
                if (*v) {
                    latest = (*v)->content;
                    if ((*v)->locale != locale) {
                        banner = tr("There is no \"%1\" variant yet: recipients in %1 get "
                                    "the default (%2), shown here. Saving creates the "
                                    "\"%1\" variant.")
                                         .arg(locale, (*v)->locale);
                        m_saved = {};
                    } else {
                        m_saved = latest;
                    }
                    setStatus(tr("Version %1 by %2, %3")
                                      .arg((*v)->version)
                                      .arg((*v)->createdBy,
                                           QLocale().toString((*v)->createdAt.toLocalTime(),
                                                              QLocale::ShortFormat)));
                } else {
                    m_saved = {};
                    setStatus(tr("New template: nothing saved yet"));
                }
                m_baseRevision = m_info.revision;
                m_store->draft(id, locale, this,
                               [this, latest, banner,
                                token](const Common::Result<std::optional<Templates::TemplateDraft>>
                                               &draft) {
                                   if (token != m_loadToken)
                                       return;
                                   QString text = banner;
                                   if (draft && *draft && (*draft)->content != latest) {
                                       applyContent((*draft)->content);
                                       if (!text.isEmpty())
                                           text += u' ';
                                       text += tr("Your unsaved changes from %1 are restored.")
                                                       .arg(QLocale().toString(
                                                               (*draft)->savedAt.toLocalTime(),
                                                               QLocale::ShortFormat));
                                       if ((*draft)->baseRevision != m_info.revision) {
                                           // Saving shows what changed since, instead of
                                           // overwriting it.
                                           m_baseRevision = (*draft)->baseRevision;
                                           text += u' '
                                                   + tr("Someone has saved this template since: "
                                                        "saving will show you the difference.");
                                       }
                                       setStatus(tr("Unsaved changes"));
                                   } else {
                                       applyContent(latest);
                                   }
                                   setBanner(text);
                                   setEnabled(true);
                                   Q_EMIT loaded();
                               });
            });
}

void TemplateEditor::loadSamples()
{
    if (!m_store || !m_info.id)
        return;
    const qint64 id = m_info.id;
    m_store->samples(id, this, [this, id](const Common::Result<QList<Templates::TemplateSample>> &s) {
        if (!s)
            return;
        m_sampleBox->clear();
        for (const auto &sample : *s) {
            m_sampleBox->addItem(sample.name, sample.json);
            m_sampleBox->setItemData(m_sampleBox->count() - 1, true, Qt::UserRole + 1);
        }
        if (!s->isEmpty() && m_sample->toPlainText().trimmed() == u"{}") {
            setSampleJson(s->constFirst().json);
            m_sampleName->setText(s->constFirst().name);
        }
        m_store->recipients(id, this,
                            [this](const Common::Result<QList<Templates::TemplateSample>> &r) {
                                if (!r)
                                    return;
                                for (const auto &recipient : *r)
                                    m_sampleBox->addItem(tr("Sent to %1").arg(recipient.name),
                                                         recipient.json);
                            });
    });
}

void TemplateEditor::flushDraft()
{
    if (!m_draftTimer || !m_draftPending)
        return;
    m_draftTimer->stop();
    m_draftPending = false;
    if (!m_store || !m_info.id || !isModified())
        return;
    m_store->saveDraft(m_info.id, m_locale, m_baseRevision, content(), this,
                       [this](const Common::Result<bool> &ok) {
                           if (!ok)
                               return setStatus(ok.error().message);
                           setStatus(tr("Draft saved %1")
                                             .arg(QLocale().toString(QTime::currentTime(),
                                                                     QLocale::ShortFormat)));
                           Q_EMIT draftSaved();
                       });
}

void TemplateEditor::save(const QString &note)
{
    if (!m_store || !m_info.id)
        return;
    m_draftTimer->stop();
    m_draftPending = false;
    const Templates::TemplateContent mine = content();
    m_saveButton->setEnabled(false);
    m_store->save(m_info.id, m_baseRevision, m_locale, mine, note, this,
                  [this,
                   mine](const Common::Result<Templates::TemplateStore::SaveOutcome> &outcome) {
                      m_saveButton->setEnabled(true);
                      if (!outcome) {
                          setStatus(outcome.error().message);
                          return Q_EMIT failed(outcome.error().message);
                      }
                      if (outcome->conflict) {
                          // Find out what they saved, then show it.
                          m_store->info(m_info.id, this,
                                        [this](const Common::Result<Templates::TemplateInfo> &info) {
                                            if (!info)
                                                return setStatus(info.error().message);
                                            const int revision = info->revision;
                                            m_store->latest(m_info.id, m_locale, this,
                                                            [this, revision](const auto &theirs) {
                                                                if (!theirs || !*theirs)
                                                                    return;
                                                                showConflict(**theirs, revision);
                                                            });
                                        });
                          return;
                      }
                      m_saved = mine;
                      m_baseRevision = outcome->revision;
                      m_info.revision = outcome->revision;
                      if (!m_info.locales.contains(m_locale))
                          m_info.locales.append(m_locale);
                      setBanner({});
                      setStatus(tr("Saved as version %1").arg(outcome->version.version));
                      Q_EMIT saved(outcome->version.version);
                  });
}

void TemplateEditor::showConflict(const Templates::TemplateVersionInfo &theirs, int revision)
{
    if (m_conflictDialog)
        m_conflictDialog->deleteLater();
    auto *dialog = new QDialog(this);
    m_conflictDialog = dialog;
    dialog->setObjectName(QStringLiteral("conflictDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Someone else saved this template"));
    dialog->resize(1000, 600);
    auto *layout = new QVBoxLayout(dialog);
    auto *label = new QLabel(
            tr("%1 saved version %2 at %3 while you were editing. Nothing was overwritten: "
               "compare their version (left) with yours (right), then choose.")
                    .arg(theirs.createdBy)
                    .arg(theirs.version)
                    .arg(QLocale().toString(theirs.createdAt.toLocalTime(), QLocale::ShortFormat)),
            dialog);
    label->setWordWrap(true);
    layout->addWidget(label);
    auto *diff = new DiffView(dialog);
    diff->setTexts(tr("Their version %1").arg(theirs.version), combined(theirs.content),
                   tr("Your changes"), combined(content()));
    layout->addWidget(diff, 1);
    auto *buttons = new QDialogButtonBox(dialog);
    auto *keepMine = buttons->addButton(tr("Save mine as the next version"),
                                        QDialogButtonBox::AcceptRole);
    keepMine->setObjectName(QStringLiteral("saveMineButton"));
    auto *takeTheirs = buttons->addButton(tr("Discard mine, load theirs"),
                                          QDialogButtonBox::DestructiveRole);
    takeTheirs->setObjectName(QStringLiteral("takeTheirsButton"));
    auto *keepEditing = buttons->addButton(tr("Keep editing"), QDialogButtonBox::RejectRole);
    keepEditing->setObjectName(QStringLiteral("keepEditingButton"));
    layout->addWidget(buttons);
    connect(keepMine, &QPushButton::clicked, this, [this, dialog, revision] {
        m_baseRevision = revision;
        m_info.revision = revision;
        dialog->close();
        save(tr("Saved over a concurrent edit"));
    });
    connect(takeTheirs, &QPushButton::clicked, this, [this, dialog, theirs, revision] {
        m_baseRevision = revision;
        m_info.revision = revision;
        m_saved = theirs.content;
        applyContent(theirs.content);
        if (m_store)
            m_store->discardDraft(m_info.id, m_locale, this, [](const auto &) {});
        setStatus(tr("Loaded version %1").arg(theirs.version));
        dialog->close();
    });
    connect(keepEditing, &QPushButton::clicked, dialog, &QDialog::close);
    setStatus(tr("Not saved: someone else saved first"));
    dialog->show();
    Q_EMIT conflict();
}

void TemplateEditor::showHistory()
{
    if (!m_store || !m_info.id)
        return;
    m_store->history(m_info.id, m_locale, this, [this](const Common::Result<QList<Templates::TemplateVersionInfo>> &history) {
        if (!history)
            return setStatus(history.error().message);
        if (m_historyDialog)
            m_historyDialog->deleteLater();
        const QList<Templates::TemplateVersionInfo> versions = *history;
        auto *dialog = new QDialog(this);
        m_historyDialog = dialog;
        dialog->setObjectName(QStringLiteral("historyDialog"));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->setWindowTitle(tr("History of %1 (%2)").arg(m_info.name, m_locale));
        dialog->resize(1100, 650);
        auto *layout = new QVBoxLayout(dialog);
        auto *table = new QTableWidget(int(versions.size()), 4, dialog);
        table->setObjectName(QStringLiteral("historyTable"));
        table->setHorizontalHeaderLabels({tr("Version"), tr("Saved"), tr("By"), tr("Note")});
        table->setEditTriggers(QAbstractItemView::NoEditTriggers);
        table->setSelectionBehavior(QAbstractItemView::SelectRows);
        table->setSelectionMode(QAbstractItemView::SingleSelection);
        table->verticalHeader()->hide();
        table->horizontalHeader()->setStretchLastSection(true);
        table->setMaximumHeight(170);
        auto *left = new QComboBox(dialog);
        left->setObjectName(QStringLiteral("diffLeftVersion"));
        auto *right = new QComboBox(dialog);
        right->setObjectName(QStringLiteral("diffRightVersion"));
        for (int i = 0; i < versions.size(); ++i) {
            const auto &v = versions.at(i);
            table->setItem(i, 0, new QTableWidgetItem(QString::number(v.version)));
            table->setItem(i, 1,
                           new QTableWidgetItem(QLocale().toString(v.createdAt.toLocalTime(),
                                                                   QLocale::ShortFormat)));
            table->setItem(i, 2, new QTableWidgetItem(v.createdBy));
            table->setItem(i, 3, new QTableWidgetItem(v.note));
            left->addItem(tr("Version %1").arg(v.version));
            right->addItem(tr("Version %1").arg(v.version));
        }
        table->resizeColumnsToContents();
        layout->addWidget(table);
        auto *compare = new QHBoxLayout;
        compare->addWidget(new QLabel(tr("Compare"), dialog));
        compare->addWidget(left);
        compare->addWidget(new QLabel(tr("with"), dialog));
        compare->addWidget(right);
        compare->addStretch(1);
        layout->addLayout(compare);
        auto *diff = new DiffView(dialog);
        diff->setObjectName(QStringLiteral("historyDiff"));
        layout->addWidget(diff, 1);
        const auto showDiff = [versions, left, right, diff] {
            const int a = left->currentIndex();
            const int b = right->currentIndex();
            if (a < 0 || b < 0)
                return;
            diff->setTexts(tr("Version %1").arg(versions.at(a).version),
                           combined(versions.at(a).content),
                           tr("Version %1").arg(versions.at(b).version),
                           combined(versions.at(b).content));
        };
        connect(left, &QComboBox::currentIndexChanged, dialog, showDiff);
        connect(right, &QComboBox::currentIndexChanged, dialog, showDiff);
        // Newest on the right, the one before it on the left.
        right->setCurrentIndex(0);
        left->setCurrentIndex(versions.size() > 1 ? 1 : 0);
        showDiff();
        // The selected row is the version to compare and to roll back to.
        table->selectRow(left->currentIndex());
        connect(table, &QTableWidget::currentCellChanged, dialog,
                [left](int row) { left->setCurrentIndex(row); });
        auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, dialog);
        auto *rollback = buttons->addButton(tr("Roll back to the selected version"),
                                            QDialogButtonBox::ActionRole);
        rollback->setObjectName(QStringLiteral("rollbackButton"));
        connect(rollback, &QPushButton::clicked, this, [this, versions, table, dialog] {
            const int row = table->currentRow();
            if (row < 0 || row >= versions.size())
                return;
            rollbackTo(versions.at(row));
            dialog->close();
        });
        connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::close);
        layout->addWidget(buttons);
        dialog->show();
    });
}

void TemplateEditor::showSendTest()
{
    if (!m_sendTestDialog) {
        m_sendTestDialog = new SendTestDialog(this);
        connect(m_sendTestDialog, &SendTestDialog::sandboxMessageStored, this,
                &TemplateEditor::sandboxMessageStored);
        if (m_databaseConfig)
            m_sendTestDialog->setDatabase(*m_databaseConfig);
    } else {
        m_sendTestDialog->refreshProviders();
    }
    m_sendTestDialog->setMessage(m_lastPreview);
    m_sendTestDialog->show();
    m_sendTestDialog->raise();
}

void TemplateEditor::rollbackTo(const Templates::TemplateVersionInfo &version)
{
    applyContent(version.content);
    save(tr("Rolled back to version %1").arg(version.version));
}
