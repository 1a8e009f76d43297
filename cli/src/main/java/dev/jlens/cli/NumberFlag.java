package dev.jlens.cli;

import dev.jlens.engine.JlensException;

/** Range checks on number flags, so that every command words them alike and makes them before any work. */
final class NumberFlag {
    private NumberFlag() {}

    /** One sentence naming the flag, its range and the value given, unless {@code ok}. */
    static void require(boolean ok, String flag, long value, String range) {
        if (!ok) throw new JlensException(flag + " must be " + range + ", not " + value + ".");
    }
}
