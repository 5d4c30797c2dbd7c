#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>

namespace Providers {

// One named fact a step found out, e.g. {"Cipher", "TLS_AES_256_GCM_SHA384"}.
struct DiagnosticFact
{
    QString name;
    QString value;
};

// One step of a connection check (DNS resolution, TCP connect, TLS handshake, EHLO, AUTH, ...).
struct DiagnosticStep
{
    QString id;    // stable: "dns", "connect", "greeting", "ehlo", "tls", "ehlo-tls", "auth", ...
    QString title; // for people: "DNS resolution"
    bool ok = false;
    bool skipped = false; // not applicable (e.g. AUTH without credentials); ok is true then
    qint64 durationMs = 0;
    QString detail; // what was found, or why it failed, in a sentence
    QList<DiagnosticFact> facts;

    QString fact(const QString &name) const;
};

struct DiagnosticReport
{
    QList<DiagnosticStep> steps;
    qint64 totalMs = 0;

    // Every step ran and none failed.
    bool ok() const;
    const DiagnosticStep *step(const QString &id) const;
};

// A check of a provider's connection and credentials that sends no mail. Emits stepStarted and
// stepFinished for each step as it runs (so a page can show progress), then finished exactly once.
// A failed step ends the run.
class Diagnostics : public QObject
{
    Q_OBJECT
public:
    explicit Diagnostics(QObject *parent = nullptr)
        : QObject(parent)
    { }
    ~Diagnostics() override = default;

    virtual void start() = 0;
    // Stops a running check; finished() is emitted with the steps so far and a failed last step.
    virtual void cancel() = 0;

    const DiagnosticReport &report() const { return m_report; }
    bool isFinished() const { return m_finished; }

Q_SIGNALS:
    void stepStarted(const QString &id, const QString &title);
    void stepFinished(const Providers::DiagnosticStep &step);
    void finished(const Providers::DiagnosticReport &report);

protected:
    // For implementations: records a step and emits stepFinished.
    void addStep(const DiagnosticStep &step);
    // Records the total time and emits finished (once).
    void finish(qint64 totalMs);

private:
    Q_DISABLE_COPY_MOVE(Diagnostics)
    DiagnosticReport m_report;
    bool m_finished = false;
};

} // namespace Providers

Q_DECLARE_METATYPE(Providers::DiagnosticStep)
Q_DECLARE_METATYPE(Providers::DiagnosticReport)
