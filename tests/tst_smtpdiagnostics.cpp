// The connection check without sending mail: every step, its timing and what it found, against
// aiosmtpd and the misbehaving server.

#include "providers/diagnostics.h"
#include "providers/smtp/smtpdiagnostics.h"
#include "smtp/smtppeer.h"

using namespace SmtpTest;
using Providers::DiagnosticReport;
using Providers::SmtpSecurity;

class TestSmtpDiagnostics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void reportsEveryStep_data();
    void reportsEveryStep();
    void stopsAtTheFailingStep_data();
    void stopsAtTheFailingStep();
    void cancel();
};

namespace {

// Runs a check to the end; stepStarted and stepFinished must pair up.
DiagnosticReport run(const Providers::SmtpSettings &settings, int *started = nullptr)
{
    Providers::SmtpTransport transport(settings);
    std::unique_ptr<Providers::Diagnostics> check(transport.createDiagnostics());
    QSignalSpy startedSpy(check.get(), &Providers::Diagnostics::stepStarted);
    QSignalSpy stepSpy(check.get(), &Providers::Diagnostics::stepFinished);
    QSignalSpy finished(check.get(), &Providers::Diagnostics::finished);
    check->start();
    if (!finished.wait(20'000))
        return {};
    if (started)
        *started = int(startedSpy.count());
    if (stepSpy.count() != check->report().steps.size())
        qWarning() << "stepFinished was not emitted for every step";
    return finished.first().first().value<DiagnosticReport>();
}

QStringList ids(const DiagnosticReport &report)
{
    QStringList result;
    for (const auto &step : report.steps)
        result << step.id;
    return result;
}

QStringList tlsServer(const QString &mode, const QString &cert = u"server"_qs)
{
    return {u"--tls"_qs,  mode,
            u"--cert"_qs, dataFile(cert + u".pem"),
            u"--key"_qs,  dataFile(cert + u".key")};
}

} // namespace

void TestSmtpDiagnostics::initTestCase()
{
    qRegisterMetaType<DiagnosticReport>();
    qRegisterMetaType<Providers::DiagnosticStep>();
}

void TestSmtpDiagnostics::reportsEveryStep_data()
{
    QTest::addColumn<QString>("tls");
    QTest::addColumn<int>("security");
    QTest::addColumn<QStringList>("steps");

    QTest::newRow("STARTTLS") << "starttls" << int(SmtpSecurity::StartTlsRequired)
                              << QStringList{u"dns"_qs, u"connect"_qs,  u"greeting"_qs, u"ehlo"_qs,
                                             u"tls"_qs, u"ehlo-tls"_qs, u"auth"_qs};
    QTest::newRow("implicit TLS") << "implicit" << int(SmtpSecurity::ImplicitTls)
                                  << QStringList{u"dns"_qs,      u"connect"_qs, u"tls"_qs,
                                                 u"greeting"_qs, u"ehlo"_qs,    u"auth"_qs};
}

void TestSmtpDiagnostics::reportsEveryStep()
{
    QFETCH(QString, tls);
    QFETCH(int, security);
    QFETCH(QStringList, steps);

    Peer peer;
    QVERIFY2(peer.startPython(u"aiosmtpd_server.py"_qs,
                              tlsServer(tls) << u"--auth"_qs << u"alice:pw"_qs),
             qPrintable(peer.error()));
    auto settings = settingsFor(peer.port(), SmtpSecurity(security));
    settings.host = u"localhost"_qs; // resolved, and matched against the certificate's names
    settings.username = u"alice"_qs;
    settings.password = u"pw"_qs;
    int started = 0;
    const DiagnosticReport report = run(settings, &started);
    QCOMPARE(ids(report), steps);
    QCOMPARE(started, int(steps.size()));
    QVERIFY(report.ok());
    for (const auto &step : report.steps) {
        QVERIFY2(step.ok, qPrintable(step.id + u": " + step.detail));
        QVERIFY(!step.title.isEmpty());
        QVERIFY(!step.detail.isEmpty());
        QVERIFY(step.durationMs >= 0 && step.durationMs <= report.totalMs);
    }
    QVERIFY(report.step(u"dns"_qs)->fact(u"Addresses"_qs).contains(u"127.0.0.1"_qs));
    const auto *tlsStep = report.step(u"tls"_qs);
    QVERIFY(tlsStep->fact(u"Protocol"_qs).startsWith(u"TLS 1."_qs));
    QVERIFY(!tlsStep->fact(u"Cipher"_qs).isEmpty());
    QVERIFY(tlsStep->fact(u"Subject"_qs).contains(u"localhost"_qs));
    QVERIFY(tlsStep->fact(u"Issuer"_qs).contains(u"Postdesk Test CA"_qs));
    QVERIFY(tlsStep->fact(u"Expires"_qs).startsWith(u"20"_qs));
    QCOMPARE(tlsStep->fact(u"Verified"_qs), u"yes"_qs);
    const auto *ehlo = report.step(steps.at(steps.indexOf(u"auth"_qs) - 1));
    QVERIFY(ehlo->fact(u"Extensions"_qs).contains(u"AUTH"_qs));
    QCOMPARE(report.step(u"auth"_qs)->fact(u"Mechanism"_qs), u"PLAIN"_qs);
    // Nothing was sent.
    QCOMPARE(peer.messageCount(), 0);
}

void TestSmtpDiagnostics::stopsAtTheFailingStep_data()
{
    QTest::addColumn<QString>("script");
    QTest::addColumn<QStringList>("serverArgs");
    QTest::addColumn<int>("security");
    QTest::addColumn<QString>("host");
    QTest::addColumn<QString>("failedStep");
    QTest::addColumn<QString>("detail");

    const QStringList misbehavingTls{u"--starttls"_qs, u"--cert"_qs, dataFile(u"server.pem"_qs),
                                     u"--key"_qs, dataFile(u"server.key"_qs)};
    QTest::newRow("unknown host") << QString() << QStringList()
                                  << int(SmtpSecurity::StartTlsRequired) << "no-such-host.invalid"
                                  << "dns"
                                  << "no-such-host.invalid";
    QTest::newRow("nothing listening")
            << QString() << QStringList() << int(SmtpSecurity::StartTlsRequired) << "127.0.0.1"
            << "connect"
            << "Cannot connect";
    QTest::newRow("certificate from an unknown CA")
            << "aiosmtpd_server.py" << tlsServer(u"starttls"_qs, u"untrusted"_qs)
            << int(SmtpSecurity::StartTlsRequired) << "localhost"
            << "tls"
            << "not accepted";
    QTest::newRow("wrong password")
            << "aiosmtpd_server.py"
            << (tlsServer(u"starttls"_qs) << u"--auth"_qs << u"alice:other"_qs)
            << int(SmtpSecurity::StartTlsRequired) << "127.0.0.1"
            << "auth"
            << "535";
    QTest::newRow("STARTTLS stripped")
            << "misbehaving_server.py" << (misbehavingTls + QStringList{u"--strip-starttls"_qs})
            << int(SmtpSecurity::StartTlsRequired) << "127.0.0.1"
            << "tls"
            << "does not offer STARTTLS";
    QTest::newRow("no greeting") << "misbehaving_server.py"
                                 << QStringList{u"--slow"_qs, u"greeting"_qs, u"--delay"_qs, u"3"_qs}
                                 << int(SmtpSecurity::StartTlsOpportunistic) << "127.0.0.1"
                                 << "greeting"
                                 << "no greeting";
    QTest::newRow("greeting 554") << "misbehaving_server.py"
                                  << QStringList{u"--fail-at"_qs, u"greeting"_qs, u"--code"_qs,
                                                 u"554"_qs}
                                  << int(SmtpSecurity::StartTlsOpportunistic) << "127.0.0.1"
                                  << "greeting"
                                  << "554 5.0.0";
}

void TestSmtpDiagnostics::stopsAtTheFailingStep()
{
    QFETCH(QString, script);
    QFETCH(QStringList, serverArgs);
    QFETCH(int, security);
    QFETCH(QString, host);
    QFETCH(QString, failedStep);
    QFETCH(QString, detail);

    Peer peer;
    quint16 port = 0;
    if (!script.isEmpty()) {
        QVERIFY2(peer.startPython(script, serverArgs), qPrintable(peer.error()));
        port = peer.port();
    } else {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    auto settings = settingsFor(port, SmtpSecurity(security));
    settings.host = host;
    settings.username = u"alice"_qs;
    settings.password = u"pw"_qs;
    settings.greetingTimeoutMs = 500;
    const DiagnosticReport report = run(settings);
    QVERIFY(!report.steps.isEmpty());
    QVERIFY(!report.ok());
    const auto &last = report.steps.last();
    QCOMPARE(last.id, failedStep);
    QVERIFY(!last.ok);
    QVERIFY2(last.detail.contains(detail), qPrintable(last.detail));
    for (qsizetype i = 0; i + 1 < report.steps.size(); ++i)
        QVERIFY(report.steps.at(i).ok);
    if (failedStep == u"tls" && detail == u"not accepted") {
        QCOMPARE(last.fact(u"Verified"_qs), u"no"_qs);
        QVERIFY(last.fact(u"Issuer"_qs).contains(u"Unknown Test CA"_qs));
    }
}

void TestSmtpDiagnostics::cancel()
{
    Peer peer;
    QVERIFY2(peer.startPython(u"misbehaving_server.py"_qs,
                              {u"--slow"_qs, u"greeting"_qs, u"--delay"_qs, u"10"_qs}),
             qPrintable(peer.error()));
    Providers::SmtpDiagnostics check(settingsFor(peer.port()));
    QSignalSpy finished(&check, &Providers::Diagnostics::finished);
    QSignalSpy started(&check, &Providers::Diagnostics::stepStarted);
    check.start();
    QTRY_VERIFY(started.count() >= 3 && started.last().first().toString() == u"greeting");
    check.cancel();
    QCOMPARE(finished.count(), 1);
    QCOMPARE(check.report().steps.last().id, u"cancelled"_qs);
    QVERIFY(!check.report().ok());
    check.cancel(); // harmless
    QCOMPARE(finished.count(), 1);
}

QTEST_GUILESS_MAIN(TestSmtpDiagnostics)
#include "tst_smtpdiagnostics.moc"
