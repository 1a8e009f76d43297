package dev.jlens.analysis;

/**
 * How a long loop says how far it has come. The command line draws a bar on stderr; a program that
 * uses jlens as a library passes {@link #NONE} or its own.
 */
public interface Progress {
    /** A loop of {@code total} steps; close the task when the loop ends. */
    Task start(String name, long total);

    /** One loop in progress. */
    interface Task extends AutoCloseable {
        void step(long steps);

        default void step() {
            step(1);
        }

        /** A short note beside the count, such as the current loss. */
        default void message(String text) {}

        @Override
        void close();
    }

    /** Says nothing. */
    Progress NONE = (name, total) -> new Task() {
        @Override
        public void step(long steps) {}

        @Override
        public void close() {}
    };
}
