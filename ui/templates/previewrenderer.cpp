#include "previewrenderer.h"

#include "templates/engine.h"

struct PreviewWorker::EngineHolder
{
    Templates::Engine engine;
};

PreviewWorker::PreviewWorker(std::shared_ptr<std::atomic<quint64>> newest)
    : m_newest(std::move(newest))
    , m_engine(std::make_unique<EngineHolder>())
{ }

PreviewWorker::~PreviewWorker() = default;

void PreviewWorker::render(const Templates::Preview::Request &request)
{
    if (request.generation < m_newest->load()) {
        Q_EMIT skipped(request.generation);
        return;
    }
    // Typing produces a new text per keystroke: keep the engine's cache of compiled texts small.
    if (m_engine->engine.cacheSize() > 64)
        m_engine->engine.clearCache();
    Q_EMIT rendered(Templates::Preview::build(m_engine->engine, request));
}

PreviewRenderer::PreviewRenderer(QObject *parent)
    : QObject(parent)
    , m_newest(std::make_shared<std::atomic<quint64>>(0))
{
    qRegisterMetaType<Templates::Preview::Request>();
    qRegisterMetaType<Templates::Preview::Result>();
    m_thread.setObjectName(QStringLiteral("preview"));
    m_worker = new PreviewWorker(m_newest);
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &PreviewWorker::rendered, this, &PreviewRenderer::handleRendered);
    connect(m_worker, &PreviewWorker::skipped, this, [this] { ++m_skipped; });
    m_thread.start();
}

PreviewRenderer::~PreviewRenderer()
{
    m_thread.quit();
    m_thread.wait();
}

quint64 PreviewRenderer::request(Templates::Preview::Request request)
{
    request.generation = ++m_generation;
    m_newest->store(m_generation);
    QMetaObject::invokeMethod(
            m_worker, [worker = m_worker, request] { worker->render(request); },
            Qt::QueuedConnection);
    return m_generation;
}

void PreviewRenderer::handleRendered(const Templates::Preview::Result &result)
{
    if (result.generation != m_generation) {
        ++m_dropped;
        return;
    }
    Q_EMIT ready(result);
}
