package dev.jlens.engine.io;

import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * How jlens writes users' files: each output is made under a unique temporary name beside its
 * target (so two runs never share one) and moved into place whole; a run that stops half-way (an
 * error, Ctrl-C, SIGTERM) leaves no temporary behind; and nothing that was there before is replaced
 * unless the caller says so.
 */
public final class Outputs {
    /** Temporaries of this process not yet moved into place: removed if the process is stopped. */
    private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();
    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> PENDING.forEach(Outputs::deleteQuietly), "jlens-temporaries"));
    }

    private Outputs() {}

    /**
     * Checks {@code target} before any work: it may not exist yet, or (with {@code replace}) be a
     * regular file. A directory, a device, a pipe or an existing file without {@code replace} is one
     * sentence naming {@code flag}.
     */
    public static void checkFile(Path target, boolean replace, String flag) {
        if (Files.isDirectory(target)) throw new JlensException(flag + " " + target + ": is a directory; name a file.");
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new JlensException(flag + " " + target + ": exists and is not a regular file (a device, a pipe or a link); name another file.");
        }
        if (Files.exists(target) && !replace) {
            throw new JlensException(flag + " " + target + ": already exists; pass --overwrite to replace it, or name another file.");
        }
        checkParent(target, flag);
    }

    /**
     * Checks a directory a command will write {@code names} into, before any work: it may not exist,
     * or be a directory; a file of one of those names already there is refused unless {@code replace}
     * (what else the directory holds is never touched).
     */
    public static void checkDirectory(Path dir, java.util.Collection<String> names, boolean replace, String flag) {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir)) {
            throw new JlensException(flag + " " + dir + ": exists and is not a directory; name a directory.");
        }
        for (String name : names) {
            Path file = dir.resolve(name);
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) continue;
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new JlensException(flag + " " + dir + ": its " + name + " is not a regular file; choose another directory.");
            }
            if (!replace) {
                throw new JlensException(flag + " " + dir + ": already holds " + name + "; pass --overwrite to replace jlens's files there, "
                        + "or choose another directory.");
            }
        }
        checkParent(dir, flag);
    }

    /**
     * Moves every file of a finished temporary directory into {@code dir}: the whole directory at
     * once when {@code dir} does not exist yet (or is empty), else file by file, each replacing its
     * namesake only when {@code replace}.
     */
    public static void publishInto(Path staging, Path dir, boolean replace) throws IOException {
        boolean empty = !Files.exists(dir);
        if (!empty && Files.isDirectory(dir)) {
            try (Stream<Path> entries = Files.list(dir)) {
                empty = entries.findAny().isEmpty();
            }
        }
        if (empty) {
            publishDirectory(staging, dir);
            return;
        }
        try (Stream<Path> files = Files.list(staging)) {
            for (Path file : files.toList()) {
                PENDING.add(file);
                publishFile(file, dir.resolve(file.getFileName().toString()), replace);
            }
        }
        discard(staging);
    }

    /** The directory {@code target} goes in must be a directory, or be makeable. */
    static void checkParent(Path target, String flag) {
        Path parent = target.toAbsolutePath().getParent();
        for (Path p = parent; p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) throw new JlensException(flag + " " + target + ": " + p + " is not a directory.");
                if (!Files.isWritable(p)) throw new JlensException(flag + " " + target + ": " + p + " cannot be written to (permission denied).");
                return;
            }
        }
    }

    /** A new empty file with a unique name beside {@code target}, removed if the process stops before it is published. */
    public static Path temporaryFileBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        return uniqueBeside(absolute, ".partial", false);
    }

    /** A new empty directory with a unique name beside {@code target}, removed (with what is in it) if the process stops first. */
    public static Path temporaryDirectoryBeside(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Files.createDirectories(absolute.getParent());
        return uniqueBeside(absolute, ".incomplete", true);
    }

    /**
     * Creates a hidden name no other process holds. Not Files.createTemp*, which makes files only
     * their owner may read: what jlens publishes gets the permissions the user's umask gives.
     */
    private static Path uniqueBeside(Path absolute, String suffix, boolean directory) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = absolute.resolveSibling("." + absolute.getFileName() + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + suffix);
            try {
                if (directory) Files.createDirectory(temp);
                else Files.createFile(temp);
                PENDING.add(temp);
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt == 100) throw e;
            }
        }
    }

    /**
     * Moves the finished temporary file into place. Without {@code replace} it never replaces a file,
     * not even one that appeared while the work ran: it is published by a hard link, which fails if
     * the name is taken, where the file system has them.
     */
    public static void publishFile(Path temp, Path target, boolean replace) throws IOException {
        Path absolute = target.toAbsolutePath();
        try {
            if (replace) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } else {
                try {
                    Files.createLink(absolute, temp);
                    Files.delete(temp);
                } catch (UnsupportedOperationException noHardLinks) {
                    if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) throw new FileAlreadyExistsException(absolute.toString());
                    Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
                }
            }
        } catch (FileAlreadyExistsException e) {
            deleteQuietly(temp);
            throw new JlensException(target + ": appeared while jlens was writing it; it was left as it is, and jlens's result was dropped.", e);
        } finally {
            PENDING.remove(temp);
        }
    }

    /**
     * Moves a finished temporary directory into place as {@code target}, which must not exist (or be
     * an empty directory): a directory that filled up meanwhile is left as it is.
     */
    public static void publishDirectory(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE);
            PENDING.remove(temp);
        } catch (DirectoryNotEmptyException | FileAlreadyExistsException e) {
            discard(temp);
            throw new JlensException(target + ": appeared while jlens was writing it; it was left as it is, and jlens's result was dropped.", e);
        }
    }

    /** Fills a temporary directory. */
    public interface Filler {
        void fill(Path staging) throws IOException;
    }

    /**
     * Writes a directory's files whole: {@code fill} writes them into a temporary directory beside
     * {@code dir}, and {@link #publishInto} moves them there (replacing namesakes only when {@code replace}).
     */
    public static void writeDirectory(Path dir, boolean replace, Filler fill) {
        Path staging = null;
        try {
            staging = temporaryDirectoryBeside(dir);
            fill.fill(staging);
            publishInto(staging, dir, replace);
        } catch (IOException e) {
            throw new JlensException(dir + ": cannot be written (" + JlensException.describe(e) + ").", e);
        } finally {
            if (staging != null && Files.exists(staging)) discard(staging);
        }
    }

    /** Removes a temporary this process made (a file, or a directory and what is in it). */
    public static void discard(Path temp) {
        deleteQuietly(temp);
        PENDING.remove(temp);
    }

    private static void deleteQuietly(Path path) {
        try (Stream<Path> paths = Files.walk(path)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException | RuntimeException e) {
            // best effort: a hidden temporary is all that can be left
        }
    }
}
