package dev.jlens.models.generation;

import dev.jlens.models.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Generated text as it grows, for printing token by token. Each token's text is what decoding
 * all tokens so far adds to what was printed, so decoders that look at neighbours (a leading
 * space stripped, bytes merged) print what decoding the whole would. A character whose UTF-8
 * bytes are split across tokens decodes as U+FFFD until its last byte arrives: such a tail is held
 * back until it is whole, or until {@link #finish}.
 */
public final class TextStream {
    private static final char REPLACEMENT = '\uFFFD';
    private final Tokenizer tokenizer;
    private final Consumer<String> out;
    private int[] tokens = new int[16];
    private int count, printed, continuationFrom = -1;

    public TextStream(Tokenizer tokenizer, Consumer<String> out) {
        this.tokenizer = tokenizer;
        this.out = out;
    }

    /** Tokens known at once (a prompt): their text, up to a split character at its end. */
    public void acceptAll(int[] more) {
        if (count + more.length > tokens.length) tokens = Arrays.copyOf(tokens, Math.max(2 * tokens.length, count + more.length));
        System.arraycopy(more, 0, tokens, count, more.length);
        count += more.length;
        emitWhole();
    }

    /** One more token (a generated one): the text it completes. */
    public void accept(int token) {
        if (continuationFrom < 0) continuationFrom = printed;
        if (count == tokens.length) tokens = Arrays.copyOf(tokens, 2 * count);
        tokens[count++] = token;
        emitWhole();
    }

    private void emitWhole() {
        String text = text();
        int whole = text.length();
        while (whole > printed && text.charAt(whole - 1) == REPLACEMENT) whole--;
        emit(text, whole);
    }

    /** Prints whatever is held back: the generation is over, so a split character stays U+FFFD. */
    public void finish() {
        String text = text();
        emit(text, text.length());
    }

    /** The text of every token so far. */
    public String text() {
        return tokenizer.decode(Arrays.copyOf(tokens, count));
    }

    /** The text from the first token given by {@link #accept} on (the continuation of a prompt). */
    public String continuation() {
        return continuationFrom < 0 ? "" : text().substring(Math.min(continuationFrom, text().length()));
    }

    private void emit(String text, int upTo) {
        if (upTo > printed) {
            out.accept(text.substring(printed, upTo));
            printed = upTo;
        }
    }
}
