package dev.jlens.engine.hooks;

/** Removes the hook it was returned for. */
@FunctionalInterface
public interface HookHandle extends AutoCloseable {
    @Override
    void close();
}
