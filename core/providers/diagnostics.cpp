#include "diagnostics.h"

namespace Providers {

QString DiagnosticStep::fact(const QString &name) const
{
    for (const DiagnosticFact &f : facts) {
        if (f.name == name)
            return f.value;
    }
    return {};
}

bool DiagnosticReport::ok() const
{
    if (steps.isEmpty())
        return false;
    for (const DiagnosticStep &s : steps) {
        if (!s.ok)
            return false;
    }
    return true;
}

const DiagnosticStep *DiagnosticReport::step(const QString &id) const
{
    for (const DiagnosticStep &s : steps) {
        if (s.id == id)
            return &s;
    }
    return nullptr;
}

void Diagnostics::addStep(const DiagnosticStep &step)
{
    m_report.steps.append(step);
    Q_EMIT stepFinished(step);
}

void Diagnostics::finish(qint64 totalMs)
{
    if (m_finished)
        return;
    m_finished = true;
    m_report.totalMs = totalMs;
    Q_EMIT finished(m_report);
}

} // namespace Providers
