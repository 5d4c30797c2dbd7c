#pragma once

#include "ast.h"
#include "common/result.h"

#include <QString>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace Templates {

// A template parsed and prepared once (helper classification, block parameter slots), then
// rendered any number of times by an Engine. Immutable, so one instance may be shared.
class Template
{
public:
    static Common::Result<std::shared_ptr<const Template>> compile(std::string_view source);
    static Common::Result<std::shared_ptr<const Template>> compile(const QString &source);

    const Ast::Program &program() const { return *m_program; }
    const std::string &source() const { return m_source; }
    // The size of the last output, so the next render reserves its buffer once.
    size_t outputSizeHint() const { return m_outputHint.load(std::memory_order_relaxed); }
    void setOutputSizeHint(size_t size) const
    {
        m_outputHint.store(size, std::memory_order_relaxed);
    }

private:
    Template() = default;
    std::string m_source;
    std::unique_ptr<Ast::Program> m_program;
    mutable std::atomic<size_t> m_outputHint{0};
};

} // namespace Templates
