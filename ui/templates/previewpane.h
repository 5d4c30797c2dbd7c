#pragma once

#include "templates/preview.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTabWidget;
class QWebEngineProfile;
class QWebEngineView;
class RemoteContentInterceptor;

// The preview beside the editor: the HTML as a mail client shows it (scripts off, remote images
// blocked until allowed, links not followed), the text part and the raw MIME message, at desktop
// or phone width, optionally in a dark-mode simulation.
class PreviewPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PreviewPane)

public:
    explicit PreviewPane(QWidget *parent = nullptr);
    ~PreviewPane() override;

    void showResult(const Templates::Preview::Result &result);

    enum class Width { Desktop, Phone };
    void setWidth(Width width);
    void setDarkMode(bool on);
    void setRemoteImagesAllowed(bool allowed);

    QString html() const { return m_html; } // as shown, after the dark-mode styles
    QString text() const;
    QString mime() const;
    QString subject() const;
    int blockedRequests() const;
    int htmlLoads() const { return m_loads; } // finished loads of the HTML view
    QWebEngineView *htmlView() const { return m_view; }
    QTabWidget *tabs() const { return m_tabs; }

    static constexpr int phoneWidth = 375; // CSS pixels of a common phone

Q_SIGNALS:
    void htmlLoaded();

private:
    enum class Refresh { None, Swap, Load }; // ordered: a load also shows what a swap would
    void refresh(Refresh how);
    void start(Refresh how);
    void finished(bool ok);
    void showBlocked();
    void fillVisibleTab();

    QTabWidget *m_tabs = nullptr;
    QLabel *m_subject = nullptr;
    QWidget *m_frame = nullptr;
    QWebEngineProfile *m_profile = nullptr;
    RemoteContentInterceptor *m_interceptor = nullptr;
    QWebEngineView *m_view = nullptr;
    QPlainTextEdit *m_text = nullptr;
    QPlainTextEdit *m_mime = nullptr;
    QComboBox *m_width = nullptr;
    QCheckBox *m_dark = nullptr;
    QCheckBox *m_images = nullptr;
    QLabel *m_blocked = nullptr;
    QString m_rendered;
    QString m_textContent; // shown when its tab is: a large text costs the GUI thread to lay out
    QString m_mimeContent;
    bool m_textStale = false;
    bool m_mimeStale = false;
    QString m_html;
    int m_loads = 0;
    bool m_closing = false;
    bool m_documentShown = false;       // a document is there whose body a swap can replace
    bool m_shownWithDoctype = false;    // its mode: standards (a doctype) or quirks
    Refresh m_inFlight = Refresh::None; // a load or a swap, or nothing
    Refresh m_pending = Refresh::None;  // newer HTML waits for the one in flight
};
