#include "db/databaseconfig.h"
#include "shell/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>
#include <QTextStream>

#include <unistd.h>

int main(int argc, char *argv[])
{
    // The template preview's web engine refuses to start as root with its sandbox on; root has
    // nothing left to protect from it, so it runs without.
    if (::geteuid() == 0 && !qEnvironmentVariableIsSet("QTWEBENGINE_DISABLE_SANDBOX"))
        qputenv("QTWEBENGINE_DISABLE_SANDBOX", "1");
    // QtWebEngine shares OpenGL contexts with the widgets; it must be set before the application.
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("postdesk"));
    QApplication::setApplicationName(QStringLiteral("postdesk"));
    QApplication::setApplicationDisplayName(QStringLiteral("Postdesk"));
    QApplication::setApplicationVersion(QStringLiteral(POSTDESK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("postdesk"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Postdesk: outbound email administration."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption pageOption(QStringLiteral("page"),
                                        QStringLiteral("Open on this page: %1.")
                                                .arg(MainWindow::pageNames().join(u", ")),
                                        QStringLiteral("name"), QStringLiteral("dashboard"));
    const QCommandLineOption
            dbOption(QStringLiteral("db"),
                     QStringLiteral(
                             "The database: a libpq connection string or URI, or 'embedded'. "
                             "Default: $POSTDESK_DB, the saved setting, else the embedded "
                             "database."),
                     QStringLiteral("conninfo"));
    parser.addOption(pageOption);
    parser.addOption(dbOption);
    parser.process(app);

    QTextStream err(stderr);
    const QString page = parser.value(pageOption);
    if (!MainWindow::pageNames().contains(page)) {
        err << "postdesk: there is no page '" << page
            << "'. Pages: " << MainWindow::pageNames().join(QStringLiteral(", ")) << '\n';
        return 2;
    }
    auto config = Db::DatabaseConfig::resolve(parser.isSet(dbOption) ? parser.value(dbOption)
                                                                     : QString());
    if (!config) {
        err << "postdesk: " << config.error().message << '\n';
        QMessageBox::critical(nullptr, QStringLiteral("Postdesk"), config.error().message);
        return 2;
    }

    MainWindow window(*config);
    window.showPage(page);
    window.show();
    return app.exec();
}
