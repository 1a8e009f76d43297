package dev.jlens.engine;

/**
 * A mistake in what the user gave jlens (a file, a name, a shape, an argument), as opposed to a
 * bug. Its message is one sentence that names what is wrong; the command line prints it alone and
 * exits non-zero, never with a stack trace.
 */
public class JlensException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JlensException(String message) {
        super(message);
    }

    public JlensException(String message, Throwable cause) {
        super(message, cause);
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
        return detail.isEmpty() ? e.getClass().getSimpleName() : detail;
    }
}
