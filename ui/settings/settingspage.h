#pragma once

#include "common/page.h"

class PageHeader;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;

// Settings: which database Postdesk uses. "Test" connects on a worker thread and reports the
// outcome; "Save and reconnect" stores the choice and switches the window over.
class SettingsPage final : public Page
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsPage)

public:
    explicit SettingsPage(QWidget *parent = nullptr);

    QLineEdit *connectionEdit() const { return m_conninfo; }
    QRadioButton *embeddedButton() const { return m_embedded; }
    QRadioButton *externalButton() const { return m_external; }
    QPushButton *testButton() const { return m_test; }
    QPushButton *saveButton() const { return m_save; }
    QLabel *resultLabel() const { return m_result; }

    void loadSaved();
    QCheckBox *runWorkersBox() const { return m_runWorkers; }

    // Whether this app sends queued mail itself, and with how many workers (QSettings).
    static bool runWorkersSetting();
    static int workerThreadsSetting();

Q_SIGNALS:
    // The user saved a different database; the main window reconnects.
    void databaseChanged();
    // The user turned in-process sending on or off, or changed the number of workers.
    void workersChanged(bool run, int threads);

private:
    QWidget *createWorkersCard();
    void handleTest();
    void handleSave();
    void updateEnabled();
    QString chosenConnectionString() const;

    QCheckBox *m_runWorkers = nullptr;
    QSpinBox *m_workerThreads = nullptr;
    QRadioButton *m_embedded = nullptr;
    QRadioButton *m_external = nullptr;
    QLineEdit *m_conninfo = nullptr;
    QLabel *m_validation = nullptr;
    QPushButton *m_test = nullptr;
    QPushButton *m_save = nullptr;
    QLabel *m_result = nullptr;
    bool m_testing = false;
};
