// The Providers page offscreen against a real PostgreSQL and a real aiosmtpd (STARTTLS + AUTH,
// the tests' CA): add a provider through the form, test its connection step by step, send a test
// email, a wrong password, failover reordering and two admins saving the same provider.

#include "db/asyncdatabase.h"
#include "db/connection.h"
#include "db/migrator.h"
#include "providers/providerform.h"
#include "providers/providerlistmodel.h"
#include "providers/providerrepository.h"
#include "providers/providerspage.h"
#include "secrets/keystore.h"
#include "secrets/sealedbox.h"
#include "secrets/secretrepository.h"
#include "smtp/smtppeer.h"
#include "testdb.h"
#include "testenv.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QTreeWidget>

using namespace SmtpTest;

class TestProvidersPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void formValidatesAsYouType();
    void addTestAndSendThroughTheForm();
    void wrongPasswordReportedClearly();
    void storedSecretsOpenWithThisHostsKey();
    void reorderPriorities();
    void conflictingSaveShowsTheDifference();
    void editingKeepsOptionsTheFormHasNoFieldFor();

private:
    template<typename T>
    T *child(const char *name)
    {
        auto *w = m_page->findChild<T *>(QLatin1String(name));
        if (!w)
            qWarning("no child %s", name);
        return w;
    }
    void fillSmtpForm(const QString &name, const QString &password);
    qint64 scalar(const QString &sql, const QVariantList &params = {});
    QString urlStoredFor(const QString &name);

    QTemporaryDir m_keys;
    std::unique_ptr<Db::Connection> m_db;
    std::unique_ptr<Db::AsyncDatabase> m_async;
    std::unique_ptr<ProvidersPage> m_page;
    Peer m_peer;
};

qint64 TestProvidersPage::scalar(const QString &sql, const QVariantList &params)
{
    auto r = m_db->exec(sql, params);
    return r && r->rowCount() > 0 ? r->toInt(0, 0) : -1;
}

void TestProvidersPage::initTestCase()
{
    const auto info = TestSupport::freshSchema(u"tst_providerspage"_qs);
    auto connection = Db::Connection::open(info);
    QVERIFY(connection);
    m_db = std::move(*connection);
    QVERIFY(Db::Migrator(*m_db).migrate());

    // This host's worker key in an owner-only directory, registered and authorised.
    QVERIFY(m_keys.isValid());
    qputenv("POSTDESK_KEY_DIR", QFile::encodeName(m_keys.path()));
    Secrets::FileKeyStore store(m_keys.path());
    auto key = Secrets::loadOrCreateHostKey(store);
    QVERIFY2(key, qPrintable(key ? QString() : key.error().toString()));
    Secrets::SecretRepository secrets(*m_db);
    auto id = secrets.registerKey(u"test-host"_qs, key->publicKey());
    QVERIFY(id);
    QVERIFY(secrets.authorise(*id));

    QVERIFY2(m_peer.startPython(u"aiosmtpd_server.py"_qs,
                                {u"--tls"_qs, u"starttls"_qs, u"--cert"_qs,
                                 dataFile(u"server.pem"_qs), u"--key"_qs,
                                 dataFile(u"server.key"_qs), u"--auth"_qs, u"alice:s3cret pass"_qs}),
             qPrintable(m_peer.error()));

    auto config = Db::DatabaseConfig::external(info.toConnectionString());
    QVERIFY(config);
    m_async = std::make_unique<Db::AsyncDatabase>(*config);
    m_page = std::make_unique<ProvidersPage>();
    QFile style(u":/ui/style/postdesk.qss"_qs);
    if (style.open(QIODevice::ReadOnly))
        m_page->setStyleSheet(QString::fromUtf8(style.readAll()));
    new QAbstractItemModelTester(m_page->model(),
                                 QAbstractItemModelTester::FailureReportingMode::QtTest,
                                 m_page.get());
    m_page->setDatabase(m_async.get());
    m_page->resize(1280, 800);
    m_page->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
    QTRY_COMPARE_WITH_TIMEOUT(m_async->linkState(), Db::LinkState::Connected, 30000);
    m_page->refresh();
}

void TestProvidersPage::cleanupTestCase()
{
    m_page.reset();
    m_async.reset();
}

void TestProvidersPage::fillSmtpForm(const QString &name, const QString &password)
{
    child<QLineEdit>("providerName")->setText(name);
    auto *type = child<QComboBox>("providerType");
    type->setCurrentIndex(type->findData(u"smtp"_qs));
    child<QLineEdit>("smtpHost")->setText(u"localhost"_qs);
    child<QSpinBox>("smtpPort")->setValue(m_peer.port());
    auto *security = child<QComboBox>("smtpSecurity");
    security->setCurrentIndex(security->findData(u"smtp+starttls"_qs));
    child<QLineEdit>("smtpUser")->setText(u"alice"_qs);
    child<QLineEdit>("smtpPassword")->setText(password);
    child<QLineEdit>("smtpCaFile")->setText(dataFile(u"ca.pem"_qs));
    child<QSpinBox>("smtpConnectTimeout")->setValue(5);
    child<QSpinBox>("smtpTimeout")->setValue(5);
    child<QLineEdit>("providerRate")->setText(u"10/s, 1000/h"_qs);
    child<QLineEdit>("providerFrom")->setText(u"Ops <ops@example.org>"_qs);
}

void TestProvidersPage::formValidatesAsYouType()
{
    QTest::mouseClick(child<QPushButton>("addProvider"), Qt::LeftButton);
    QVERIFY(m_page->isShowingForm());
    auto *save = child<QPushButton>("formSave");
    auto *problems = child<QLabel>("formProblems");
    QVERIFY(!save->isEnabled());
    QVERIFY2(problems->text().contains(u"name"_qs), qPrintable(problems->text()));
    QVERIFY2(problems->text().contains(u"host"_qs), qPrintable(problems->text()));
    fillSmtpForm(u"typing"_qs, u"x"_qs);
    QVERIFY2(save->isEnabled(), qPrintable(problems->text()));
    QTest::keyClicks(child<QLineEdit>("providerRate"), u"!"_qs);
    QVERIFY(!save->isEnabled());
    QVERIFY2(problems->text().contains(u"not a rate limit"_qs), qPrintable(problems->text()));
    child<QLineEdit>("providerRate")->setText(u"5/m"_qs);
    child<QLineEdit>("providerFrom")->setText(u"not an address"_qs);
    QVERIFY(!save->isEnabled());
    QVERIFY2(problems->text().contains(u"Default From"_qs), qPrintable(problems->text()));
    child<QLineEdit>("providerFrom")->clear();
    child<QLineEdit>("dkimDomain")->setText(u"example.org"_qs);
    QVERIFY(!save->isEnabled());
    QVERIFY2(problems->text().contains(u"DKIM"_qs), qPrintable(problems->text()));
    child<QLineEdit>("dkimDomain")->clear();
    auto *type = child<QComboBox>("providerType");
    type->setCurrentIndex(type->findData(u"mailgun"_qs));
    QVERIFY(!save->isEnabled());
    QVERIFY2(problems->text().contains(u"API key"_qs), qPrintable(problems->text()));
    child<QLineEdit>("mailgunKey")->setText(u"key-123"_qs);
    child<QLineEdit>("mailgunDomain")->setText(u"mg.example.org"_qs);
    QVERIFY2(save->isEnabled(), qPrintable(problems->text()));
    QCOMPARE(m_page->form()->draft().record.type, u"mailgun"_qs);
    QCOMPARE(m_page->form()->draft().secrets.value(u"api_key"_qs), QByteArray("key-123"));
    QVERIFY(!m_page->form()->draft().record.url().contains(u"key-123"_qs));
    QTest::mouseClick(child<QPushButton>("formCancel"), Qt::LeftButton);
    QVERIFY(!m_page->isShowingForm());
    QCOMPARE(scalar(u"SELECT count(*) FROM providers"_qs), 0);
}

void TestProvidersPage::addTestAndSendThroughTheForm()
{
    QTest::mouseClick(child<QPushButton>("addProvider"), Qt::LeftButton);
    fillSmtpForm(u"relay"_qs, u"s3cret pass"_qs);
    auto *save = child<QPushButton>("formSave");
    QVERIFY2(save->isEnabled(), qPrintable(child<QLabel>("formProblems")->text()));

    // Test connection: each step appears with its result; the TLS facts are shown.
    QTest::mouseClick(child<QPushButton>("testConnection"), Qt::LeftButton);
    QLabel *result = m_page->form()->testResultLabel();
    QTRY_VERIFY2_WITH_TIMEOUT(result->text().contains(u"All checks passed"_qs),
                              qPrintable(result->text()), 30000);
    QTreeWidget *steps = m_page->form()->diagnosticsView();
    QStringList titles;
    QTreeWidgetItem *tls = nullptr;
    for (int i = 0; i < steps->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = steps->topLevelItem(i);
        titles << item->text(0);
        QVERIFY2(item->text(1) == u"ok"_qs || item->text(1) == u"skipped"_qs,
                 qPrintable(item->text(0) + u": " + item->text(1)));
        QVERIFY(item->text(2).endsWith(u" ms"_qs));
        if (item->data(0, Qt::UserRole).toString() == u"tls")
            tls = item;
    }
    const QString joined = titles.join(u'|');
    for (const QString &expected :
         {u"DNS resolution"_qs, u"TCP connect"_qs, u"EHLO"_qs, u"Authentication"_qs})
        QVERIFY2(joined.contains(expected), qPrintable(joined));
    QVERIFY(tls);
    QStringList facts;
    for (int i = 0; i < tls->childCount(); ++i)
        facts << tls->child(i)->text(0) + u": " + tls->child(i)->text(3);
    QVERIFY2(facts.join(u'\n').contains(u"Issuer: Postdesk Test CA"_qs),
             qPrintable(facts.join(u'\n')));
    QVERIFY2(facts.join(u'\n').contains(u"Verified: yes"_qs), qPrintable(facts.join(u'\n')));
    QCOMPARE(m_peer.messageCount(), 0);
    TestSupport::saveScreenshot(m_page.get(), u"providers-form-diagnostics"_qs);

    // Send test email: the outcome and the Message-ID; the message is at the server.
    child<QLineEdit>("testRecipient")->setText(u"bob@example.net"_qs);
    QTest::mouseClick(child<QPushButton>("sendTest"), Qt::LeftButton);
    QLabel *sent = m_page->form()->sendResultLabel();
    QTRY_VERIFY2_WITH_TIMEOUT(sent->text().contains(u"Message-ID"_qs), qPrintable(sent->text()),
                              30000);
    const auto id = QRegularExpression(u"Message-ID: <([^>]+)>"_qs).match(sent->text());
    QVERIFY(id.hasMatch());
    QTRY_COMPARE(m_peer.messageCount(), 1);
    QVERIFY(m_peer.message(1).contains(id.captured(1).toUtf8()));
    QVERIFY(m_peer.message(1).contains("From: Ops <ops@example.org>"));

    QTest::mouseClick(save, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_page->isShowingForm(), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->rowCount(), 1, 20000);
    const ProviderRow *row = m_page->model()->rowAt(0);
    QCOMPARE(row->record.name, u"relay"_qs);
    QCOMPARE(row->record.type, u"smtp"_qs);
    QCOMPARE(row->record.secretNames, QStringList{u"password"_qs});
    QCOMPARE(row->record.limits.perHour, 1000);
    QVERIFY(!row->record.url().contains(u"s3cret"_qs));
    QCOMPARE(scalar(u"SELECT count(*) FROM audit_log WHERE entity_id = 'relay' AND action = 'add'"_qs),
             1);
    QCOMPARE(scalar(u"SELECT count(*) FROM (SELECT row_to_json(p)::text t FROM providers p "
                    "UNION ALL SELECT row_to_json(s)::text FROM provider_secrets s) x "
                    "WHERE t LIKE '%s3cret%'"_qs),
             0);
    TestSupport::saveScreenshot(m_page.get(), u"providers-list"_qs);
}

void TestProvidersPage::wrongPasswordReportedClearly()
{
    QTest::mouseClick(child<QPushButton>("addProvider"), Qt::LeftButton);
    fillSmtpForm(u"wrong"_qs, u"not the password"_qs);
    QTest::mouseClick(child<QPushButton>("testConnection"), Qt::LeftButton);
    QLabel *result = m_page->form()->testResultLabel();
    QTRY_VERIFY2_WITH_TIMEOUT(result->text().contains(u"failed"_qs), qPrintable(result->text()),
                              30000);
    QVERIFY2(result->text().contains(u"Authentication"_qs), qPrintable(result->text()));
    QVERIFY(!result->text().contains(u"not the password"_qs));
    QTreeWidget *steps = m_page->form()->diagnosticsView();
    QCOMPARE(steps->topLevelItem(steps->topLevelItemCount() - 1)->text(1), u"FAILED"_qs);
    TestSupport::saveScreenshot(m_page.get(), u"providers-form-wrong-password"_qs);

    child<QLineEdit>("testRecipient")->setText(u"bob@example.net"_qs);
    QTest::mouseClick(child<QPushButton>("sendTest"), Qt::LeftButton);
    QLabel *sent = m_page->form()->sendResultLabel();
    QTRY_VERIFY2_WITH_TIMEOUT(sent->text().startsWith(u"Not sent"_qs), qPrintable(sent->text()),
                              30000);
    QCOMPARE(m_peer.messageCount(), 1);
    QTest::mouseClick(child<QPushButton>("formCancel"), Qt::LeftButton);
    QCOMPARE(scalar(u"SELECT count(*) FROM providers WHERE name = 'wrong'"_qs), 0);
}

void TestProvidersPage::storedSecretsOpenWithThisHostsKey()
{
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->rowCount(), 1, 20000);
    m_page->table()->selectRow(0);
    QTest::mouseClick(child<QPushButton>("editProvider"), Qt::LeftButton);
    QVERIFY(m_page->isShowingForm());
    // The password is not read back: the field is empty and says the stored one stays.
    auto *password = child<QLineEdit>("smtpPassword");
    QVERIFY(password->text().isEmpty());
    QVERIFY(password->placeholderText().contains(u"unchanged"_qs));
    QCOMPARE(child<QLineEdit>("smtpHost")->text(), u"localhost"_qs);
    QCOMPARE(child<QSpinBox>("smtpPort")->value(), int(m_peer.port()));
    QVERIFY(child<QPushButton>("formSave")->isEnabled());
    QVERIFY(m_page->form()->draft().secrets.isEmpty());
    QTest::mouseClick(child<QPushButton>("testConnection"), Qt::LeftButton);
    QLabel *result = m_page->form()->testResultLabel();
    QTRY_VERIFY2_WITH_TIMEOUT(result->text().contains(u"All checks passed"_qs),
                              qPrintable(result->text()), 30000);
    QTest::mouseClick(child<QPushButton>("formCancel"), Qt::LeftButton);
}

void TestProvidersPage::reorderPriorities()
{
    Providers::ProviderRepository repository(*m_db);
    Providers::ProviderRecord sandbox;
    sandbox.name = u"sandbox"_qs;
    sandbox.type = u"sandbox"_qs;
    sandbox.priority = 200;
    sandbox.options.insert(u"url"_qs, u"sandbox:"_qs);
    QVERIFY(repository.add(sandbox));
    m_page->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->rowCount(), 2, 20000);
    QCOMPARE(m_page->model()->names(), (QStringList{u"relay"_qs, u"sandbox"_qs}));

    m_page->table()->selectRow(1);
    QTest::mouseClick(child<QPushButton>("moveUp"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->names(), (QStringList{u"sandbox"_qs, u"relay"_qs}),
                              20000);
    QCOMPARE(scalar(u"SELECT priority FROM providers WHERE name = 'sandbox'"_qs), 10);
    QCOMPARE(scalar(u"SELECT priority FROM providers WHERE name = 'relay'"_qs), 20);
    // The moved provider stays selected; moving it down again restores the order.
    QTRY_COMPARE(m_page->table()->selectionModel()->selectedRows().value(0).row(), 0);
    QTest::mouseClick(child<QPushButton>("moveDown"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->names(), (QStringList{u"relay"_qs, u"sandbox"_qs}),
                              20000);
    QCOMPARE(scalar(u"SELECT priority FROM providers WHERE name = 'relay'"_qs), 10);

    // Disable and enable.
    m_page->table()->selectRow(1);
    QTest::mouseClick(child<QPushButton>("toggleEnabled"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(scalar(u"SELECT enabled::int FROM providers WHERE name = 'sandbox'"_qs),
                              0, 20000);
    QTRY_COMPARE(m_page->model()->rowAt(1)->record.enabled, false);
    TestSupport::saveScreenshot(m_page.get(), u"providers-list-reordered"_qs);
}

void TestProvidersPage::conflictingSaveShowsTheDifference()
{
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->rowAt(0)->record.name, u"relay"_qs, 20000);
    m_page->table()->selectRow(0);
    QTest::mouseClick(child<QPushButton>("editProvider"), Qt::LeftButton);
    const int startedFrom = m_page->form()->base().revision;

    // Another admin saves first: a new default From.
    Providers::ProviderRepository repository(*m_db);
    auto theirs = repository.find(u"relay"_qs);
    QVERIFY(theirs);
    theirs->options.insert(u"from"_qs, u"Billing <billing@example.org>"_qs);
    QVERIFY(repository.update(*theirs));
    const qint64 revision = scalar(u"SELECT revision FROM providers WHERE name = 'relay'"_qs);
    QCOMPARE(revision, startedFrom + 1);

    child<QLineEdit>("providerRate")->setText(u"2/s"_qs);
    QTest::mouseClick(child<QPushButton>("formSave"), Qt::LeftButton);
    auto *box = child<QGroupBox>("conflictBox");
    QTRY_VERIFY_WITH_TIMEOUT(box->isVisible(), 20000);
    const QString text = child<QLabel>("conflictText")->text();
    QVERIFY2(text.contains(u"billing@example.org"_qs), qPrintable(text));
    QVERIFY2(text.contains(u"from"_qs), qPrintable(text));
    // Only what they changed: the limits are this form's own change.
    QVERIFY2(!text.contains(u"limits"_qs), qPrintable(text));
    QVERIFY(m_page->isShowingForm());
    // Nothing was written.
    QCOMPARE(scalar(u"SELECT revision FROM providers WHERE name = 'relay'"_qs), revision);
    QCOMPARE(scalar(u"SELECT coalesce(rate_per_second, 0) FROM providers WHERE name = 'relay'"_qs),
             10);
    TestSupport::saveScreenshot(m_page.get(), u"providers-form-conflict"_qs);

    // Overwriting is a conscious second step.
    QTest::mouseClick(child<QPushButton>("conflictOverwrite"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_page->isShowingForm(), 20000);
    QCOMPARE(scalar(u"SELECT rate_per_second FROM providers WHERE name = 'relay'"_qs), 2);
    QCOMPARE(scalar(u"SELECT revision FROM providers WHERE name = 'relay'"_qs), revision + 1);
}

void TestProvidersPage::editingKeepsOptionsTheFormHasNoFieldFor()
{
    Providers::ProviderRepository repository(*m_db);
    auto relay = repository.find(u"relay"_qs);
    QVERIFY(relay);
    const QString url = relay->url() + (relay->url().contains(u'?') ? u'&' : u'?')
            + u"helo=mail.example.org&per_connection=7"_qs;
    relay->options.insert(u"url"_qs, url);
    QVERIFY(repository.update(*relay));
    m_page->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(m_page->model()->rowAt(0)->record.url(), url, 20000);
    m_page->table()->selectRow(0);
    QTest::mouseClick(child<QPushButton>("editProvider"), Qt::LeftButton);
    QVERIFY(m_page->isShowingForm());
    child<QLineEdit>("providerRate")->setText(u"3/s"_qs);
    QTest::mouseClick(child<QPushButton>("formSave"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!m_page->isShowingForm(), 20000);
    auto saved = repository.find(u"relay"_qs);
    QVERIFY(saved);
    QCOMPARE(saved->limits.perSecond, 3);
    QVERIFY2(saved->url().contains(u"helo=mail.example.org"_qs), qPrintable(saved->url()));
    QVERIFY2(saved->url().contains(u"per_connection=7"_qs), qPrintable(saved->url()));
}

QTEST_MAIN(TestProvidersPage)
#include "tst_providerspage.moc"
