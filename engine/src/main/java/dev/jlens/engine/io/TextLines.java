package dev.jlens.engine.io;

import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A user's text file of one item per line (a corpus, prompt pairs), or one sentence naming the option and file when it cannot be read. */
public final class TextLines {
    private TextLines() {}

    /** Every line of {@code file}, read as UTF-8; {@code option} names the flag that gave it ("--corpus"). */
    public static List<String> read(Path file, String option) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new JlensException(option + " " + file + ": cannot be read as UTF-8 text (" + JlensException.describe(e) + ").", e);
        }
    }
}
