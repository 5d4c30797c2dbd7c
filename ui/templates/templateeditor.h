#pragma once

#include "sendtestdialog.h"
#include "templates/preview.h"
#include "templates/templatestore.h"

#include <QDialog>
#include <QPointer>
#include <QWidget>

#include <optional>

class CodeEditor;
class DiffView;
class PreviewPane;
class PreviewRenderer;

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QTimer;
class QListWidget;

// Edits one template in one locale: subject, HTML and text with a live preview rendered off the
// GUI thread, error markers, pre-send checks, sample data, drafts saved as you type, versions with
// history, diff and rollback, and save conflicts shown instead of overwritten.
class TemplateEditor final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TemplateEditor)

public:
    explicit TemplateEditor(QWidget *parent = nullptr);
    ~TemplateEditor() override;

    void setStore(Templates::TemplateStore *store) { m_store = store; }
    // Where "Send test" finds the stored providers.
    void setDatabaseConfig(const Db::DatabaseConfig &config) { m_databaseConfig = config; }
    void open(qint64 templateId, const QString &locale = {});
    void openLocale(const QString &locale);
    // Shows content without a database (benchmarks, and the editor before a template is chosen).
    void setContent(const Templates::TemplateContent &content);
    void setSampleJson(const QByteArray &json);
    void setKind(const QString &kind);

    void save(const QString &note = {});
    void showHistory();
    void showSendTest();
    void rollbackTo(const Templates::TemplateVersionInfo &version);
    void flushDraft();

    Templates::TemplateContent content() const;
    bool isModified() const { return content() != m_saved; }
    qint64 templateId() const { return m_info.id; }
    const Templates::TemplateInfo &info() const { return m_info; }
    QString locale() const { return m_locale; }
    int baseRevision() const { return m_baseRevision; }
    const Templates::Preview::Result &lastPreview() const { return m_lastPreview; }
    int previewCount() const { return m_previews; }
    QStringList findingCodes() const;
    QString status() const;
    QString banner() const;

    QLineEdit *subjectEditor() const { return m_subject; }
    CodeEditor *htmlEditor() const { return m_html; }
    CodeEditor *textEditor() const { return m_text; }
    CodeEditor *sampleEditor() const { return m_sample; }
    PreviewPane *previewPane() const { return m_preview; }
    PreviewRenderer *renderer() const { return m_renderer; }
    QListWidget *checks() const { return m_checks; }
    QDialog *historyDialog() const { return m_historyDialog; }
    QDialog *conflictDialog() const { return m_conflictDialog; }
    SendTestDialog *sendTestDialog() const { return m_sendTestDialog; }

    static constexpr int previewDelayMs = 50;
    static constexpr int draftDelayMs = 1500;

Q_SIGNALS:
    void loaded();
    void previewUpdated();
    void saved(int version);
    void conflict();
    void draftSaved();
    void failed(const QString &message);
    void sandboxMessageStored();

protected:
    void hideEvent(QHideEvent *event) override;

private:
    void handleEdited();
    void handlePreview(const Templates::Preview::Result &result);
    void requestPreview();
    void loadLocale(const QString &locale);
    void applyContent(const Templates::TemplateContent &content);
    void loadSamples();
    void setStatus(const QString &text);
    void setBanner(const QString &text);
    void showConflict(const Templates::TemplateVersionInfo &theirs, int revision);
    void updateCompletions(const QStringList &variables);

    Templates::TemplateStore *m_store = nullptr;
    std::optional<Db::DatabaseConfig> m_databaseConfig;
    PreviewRenderer *m_renderer = nullptr;
    Templates::TemplateInfo m_info;
    QString m_locale = QStringLiteral("en");
    int m_baseRevision = 0;
    Templates::TemplateContent m_saved;
    bool m_applying = false;
    bool m_draftPending = false; // edits the draft does not hold yet
    quint64 m_loadToken = 0;     // the newest open or locale switch
    int m_previews = 0;
    Templates::Preview::Result m_lastPreview;
    QStringList m_sampleKeys;

    QLabel *m_title = nullptr;
    QComboBox *m_localeBox = nullptr;
    QComboBox *m_sampleBox = nullptr;
    QPushButton *m_saveButton = nullptr;
    QPushButton *m_historyButton = nullptr;
    QPushButton *m_sendTestButton = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_banner = nullptr;
    QLineEdit *m_subject = nullptr;
    QTabWidget *m_sourceTabs = nullptr;
    CodeEditor *m_html = nullptr;
    CodeEditor *m_text = nullptr;
    CodeEditor *m_sample = nullptr;
    QLineEdit *m_sampleName = nullptr;
    PreviewPane *m_preview = nullptr;
    QListWidget *m_checks = nullptr;
    QTimer *m_previewTimer = nullptr;
    QTimer *m_draftTimer = nullptr;
    QPointer<QDialog> m_historyDialog;
    QPointer<QDialog> m_conflictDialog;
    QPointer<SendTestDialog> m_sendTestDialog;
};
