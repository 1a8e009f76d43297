package dev.jlens.models.hub;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The Hugging Face hub cache, laid out as {@code huggingface_hub} lays it out, so that each side finds
 * the other's downloads: {@code models--org--name/blobs/<etag>} holds each file once,
 * {@code snapshots/<commit>/<file>} links to its blob, {@code refs/<revision>} names the commit.
 */
public final class HubCache {
    private final Path root;

    public HubCache(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    public Path repoDir(String repo) {
        return root.resolve("models--" + repo.replace("/", "--"));
    }

    public Path blob(String repo, String etag) {
        return repoDir(repo).resolve("blobs").resolve(etag);
    }

    public Path snapshotDir(String repo, String commit) {
        return repoDir(repo).resolve("snapshots").resolve(commit);
    }

    /** The commit a revision names: itself when it is a commit hash, else what refs/revision holds. */
    public Optional<String> commit(String repo, String revision) {
        if (revision.matches("[0-9a-f]{40}")) return Optional.of(revision);
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        try {
            return Files.isRegularFile(ref) ? Optional.of(Files.readString(ref).trim()) : Optional.empty();
        } catch (IOException e) {
            throw new JlensException("cannot read " + ref + " (" + JlensException.describe(e) + ").", e);
        }
    }

    /** The snapshot a revision names, if the cache has it. */
    public Optional<Path> snapshot(String repo, String revision) {
        return commit(repo, revision).map(c -> snapshotDir(repo, c)).filter(Files::isDirectory);
    }

    public void writeRef(String repo, String revision, String commit) {
        Path ref = repoDir(repo).resolve("refs").resolve(revision);
        try {
            Path tmp = Outputs.temporaryFileBeside(ref);
            Files.writeString(tmp, commit, StandardCharsets.UTF_8);
            Outputs.publishFile(tmp, ref, true);
        } catch (IOException e) {
            throw new JlensException("cannot write " + ref + " (" + JlensException.describe(e) + ").", e);
        }
    }

    /**
     * Makes {@code snapshots/<commit>/<file>} point at the blob: a relative symbolic link, as
     * huggingface_hub makes; a copy where the file system has no links.
     */
    public Path link(String repo, String commit, String file, String etag) {
        Path target = snapshotDir(repo, commit).resolve(file), blob = blob(repo, etag);
        try {
            Files.createDirectories(target.getParent());
            Files.deleteIfExists(target);
            try {
                Files.createSymbolicLink(target, target.getParent().relativize(blob));
            } catch (UnsupportedOperationException | IOException noLinks) {
                Files.copy(blob, target);
            }
            return target;
        } catch (IOException e) {
            throw new JlensException("cannot write " + target + " (" + JlensException.describe(e) + ").", e);
        }
    }
}
