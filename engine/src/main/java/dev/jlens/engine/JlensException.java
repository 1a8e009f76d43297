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
}
