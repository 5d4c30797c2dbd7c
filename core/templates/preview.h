#pragma once

#include "presendchecks.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace Templates {

class Engine;

// Everything the editor's preview shows for one state of the editor, computed in one go off the
// GUI thread: the rendered parts, the raw MIME message, parse and render errors with their
// position, the variables the template reads and the pre-send checks.
class Preview
{
public:
    struct Request
    {
        quint64 generation = 0; // increases with every edit; the newest result wins
        QString kind = QStringLiteral("transactional");
        QString locale = QStringLiteral("en");
        QString subject;
        QString html;
        QString text; // empty: generated from the HTML
        QByteArray sampleJson = "{}";
    };

    struct Problem
    {
        QString part; // "subject", "html", "text" or "data"
        int line = 0; // 1-based; 0 when unknown
        int column = 0;
        QString message;
    };

    struct Result
    {
        quint64 generation = 0;
        bool rendered = false;
        QString subject;
        QString html;
        QString text;
        QByteArray mime;
        QList<Problem> problems;
        QStringList variables;
        QStringList missing;
        QList<CheckFinding> findings;
        double elapsedMs = 0;
    };

    static Result build(Engine &engine, const Request &request);

    // The line and column an engine error message names ("... line 3, column 7 ..."), or 0, 0.
    static std::pair<int, int> position(const QString &message);
};

} // namespace Templates

Q_DECLARE_METATYPE(Templates::Preview::Request)
Q_DECLARE_METATYPE(Templates::Preview::Result)
