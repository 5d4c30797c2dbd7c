#include "messagebuilder.h"

#include "db/connection.h"
#include "mime/address.h"
#include "mime/message.h"
#include "queue/sqlarray.h"
#include "templates/value.h"

namespace Delivery {

namespace {

Common::Error permanent(const QString &code, const QString &message, const QString &detail = {})
{
    return Common::Error{code, message, detail, Common::Retry::Permanent};
}

} // namespace

Common::Status MessageBuilder::prepare(Db::Connection &connection,
                                       const QList<Queue::ClaimedMessage> &messages)
{
    QList<qint64> missing;
    for (const auto &message : messages) {
        if (message.templateVersionId > 0 && !m_templates.contains(message.templateVersionId)
            && !missing.contains(message.templateVersionId))
            missing.append(message.templateVersionId);
    }
    if (missing.isEmpty())
        return {};
    auto rows = connection.exec(
            QStringLiteral("SELECT id, subject, html_body, text_body FROM template_versions "
                           "WHERE id = ANY($1::bigint[])"),
            {Queue::Sql::bigintArray(missing)});
    if (!rows)
        return Common::fail(rows.error());
    for (int r = 0; r < rows->rowCount(); ++r) {
        m_templates.insert(rows->toInt(r, 0),
                           Templates::MessageTemplate(rows->text(r, 1), rows->text(r, 2),
                                                      rows->isNull(r, 3) ? QString()
                                                                         : rows->text(r, 3)));
    }
    return {};
}

QString MessageBuilder::messageIdFor(const Queue::ClaimedMessage &message, const QString &domain)
{
    return QStringLiteral("%1.%2.postdesk@%3")
            .arg(message.id)
            .arg(message.createdAt.toMSecsSinceEpoch(), 0, 36)
            .arg(domain);
}

QDateTime MessageBuilder::dateNow()
{
    const qint64 second = QDateTime::currentMSecsSinceEpoch() / 1000;
    if (second != m_dateSecond) {
        const QDateTime local = QDateTime::fromMSecsSinceEpoch(second * 1000);
        m_date = local.toOffsetFromUtc(local.offsetFromUtc());
        m_dateSecond = second;
    }
    return m_date;
}

Common::Result<Providers::OutgoingMessage> MessageBuilder::build(
        const Queue::ClaimedMessage &message, const Options &options)
{
    QString subject = message.subject;
    QString html = message.htmlBody;
    QString text = message.textBodyIsNull ? QString() : message.textBody;
    if (message.templateVersionId > 0) {
        const auto found = m_templates.constFind(message.templateVersionId);
        if (found == m_templates.cend()) {
            return Common::fail(permanent(QStringLiteral("delivery.template_missing"),
                                          QStringLiteral("Template version %1 no longer exists")
                                                  .arg(message.templateVersionId)));
        }
        auto data = Templates::Value::fromJson(
                message.dataJson.isEmpty() ? std::string_view("{}")
                                           : std::string_view(message.dataJson.constData(),
                                                              size_t(message.dataJson.size())));
        if (!data) {
            return Common::fail(permanent(QStringLiteral("delivery.data"),
                                          QStringLiteral("The message's data is not valid JSON"),
                                          data.error().message));
        }
        auto rendered = found->render(m_engine, *data);
        if (!rendered) {
            return Common::fail(permanent(QStringLiteral("delivery.render"),
                                          QStringLiteral("The template did not render: %1")
                                                  .arg(rendered.error().message),
                                          rendered.error().detail));
        }
        subject = rendered->subject;
        html = rendered->html;
        text = rendered->text;
    }

    const QString senderText = message.sender.isEmpty() ? options.defaultSender : message.sender;
    if (senderText.isEmpty()) {
        return Common::fail(
                permanent(QStringLiteral("delivery.no_sender"),
                          QStringLiteral(
                                  "The message has no sender and none is configured: give the "
                                  "provider a default with 'postdeskctl provider set NAME --from "
                                  "ADDRESS', or enqueue with a sender")));
    }
    if (!m_sender || senderText != m_senderText) {
        auto parsed = Mime::Address::parse(senderText);
        if (!parsed) {
            return Common::fail(
                    permanent(parsed.error().code, parsed.error().message, parsed.error().detail));
        }
        m_sender = std::move(*parsed);
        m_senderText = senderText;
    }
    const Mime::Address *from = &*m_sender;
    auto to = Mime::Address::parse(message.recipient);
    if (!to)
        return Common::fail(permanent(to.error().code, to.error().message, to.error().detail));

    Mime::Message mime;
    mime.setFrom(*from).addTo(*to).setSubject(subject);
    if (!html.isEmpty())
        mime.setHtml(html);
    if (!text.isEmpty())
        mime.setText(text);
    if (options.decorate)
        options.decorate(mime, message);

    Mime::ComposeOptions compose;
    compose.messageId = messageIdFor(message, from->domain());
    compose.date = dateNow();
    auto composed = mime.compose(compose);
    if (!composed) {
        return Common::fail(permanent(composed.error().code, composed.error().message,
                                      composed.error().detail));
    }
    if (options.dkim) {
        auto signedData = options.dkim->sign(composed->data);
        if (!signedData)
            return Common::fail(signedData.error());
        composed->data = *signedData;
    }
    return Providers::toOutgoing(*composed);
}

} // namespace Delivery
