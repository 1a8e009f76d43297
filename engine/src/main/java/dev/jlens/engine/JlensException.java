package dev.jlens.engine;

/**
 * A mistake in what the user gave jlens (a file, a name, a shape, an argument), as opposed to a
 * bug. Its message is one sentence that names what is wrong; the command line prints it alone and
 * exits non-zero, never with a stack trace. What a message echoes from the user's input (a token, a
 * name read from a file) cannot break it over lines: control characters are shown escaped.
 */
public class JlensException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JlensException(String message) {
        super(oneLine(message));
    }

    public JlensException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * Text from the user's input, quoted for a message: escaped as {@link #oneLine} does, cut to its
     * first 60 characters so a hostile file cannot fill the terminal, and with its own quotes shown
     * as ’ so that where the quotation ends is never in doubt.
     */
    public static String quote(String text) {
        String shown = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return "'" + shown.replace('\'', '\u2019') + "'";
    }

    /** Line breaks and other control characters as escapes (\n, \u0007): a message stays one line. */
    static String oneLine(String message) {
        if (message == null || message.chars().noneMatch(JlensException::isControl)) return message;
        StringBuilder sb = new StringBuilder(message.length() + 16);
        message.chars().forEach(c -> {
            if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (isControl(c)) sb.append(String.format("\\u%04x", c));
            else sb.append((char) c);
        });
        return sb.toString();
    }

    private static boolean isControl(int c) {
        return Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085';
    }

    /**
     * What an I/O failure was, in words: Java's exceptions for a missing file or a refused
     * permission carry only the path.
     */
    public static String describe(java.io.IOException e) {
        String detail = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof java.nio.file.NoSuchFileException) return "no such file or directory: " + detail;
        if (e instanceof java.nio.file.AccessDeniedException) return "permission denied: " + detail;
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) return f.getReason() + ": " + f.getFile();
        if (!detail.isEmpty()) return detail;
        return e instanceof java.io.EOFException ? "it ends early" : "an input or output error";
    }
}
