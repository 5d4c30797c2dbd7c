#pragma once

#include "templates/preview.h"

#include <QObject>
#include <QThread>

#include <atomic>
#include <memory>

class PreviewWorker;

// Renders previews on a thread of its own, so that typing never waits for the engine. Requests
// carry an increasing generation: the worker skips any request older than the newest one asked
// for, and a result older than the newest is dropped, so an older render never replaces a newer.
class PreviewRenderer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PreviewRenderer)

public:
    explicit PreviewRenderer(QObject *parent = nullptr);
    ~PreviewRenderer() override;

    // Returns the request's generation.
    quint64 request(Templates::Preview::Request request);
    quint64 latestGeneration() const { return m_generation; }
    int skipped() const { return m_skipped; } // requests the worker never rendered
    int dropped() const { return m_dropped; } // results that arrived after a newer request

Q_SIGNALS:
    void ready(const Templates::Preview::Result &result);

private:
    void handleRendered(const Templates::Preview::Result &result);

    QThread m_thread;
    PreviewWorker *m_worker = nullptr;
    std::shared_ptr<std::atomic<quint64>> m_newest;
    quint64 m_generation = 0;
    int m_skipped = 0;
    int m_dropped = 0;
};

// Lives on the renderer's thread and owns its Engine (an Engine's cache is not shared).
class PreviewWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PreviewWorker)

public:
    explicit PreviewWorker(std::shared_ptr<std::atomic<quint64>> newest);
    ~PreviewWorker() override;

    void render(const Templates::Preview::Request &request);

Q_SIGNALS:
    void rendered(const Templates::Preview::Result &result);
    void skipped(quint64 generation);

private:
    std::shared_ptr<std::atomic<quint64>> m_newest;
    struct EngineHolder;
    std::unique_ptr<EngineHolder> m_engine;
};
