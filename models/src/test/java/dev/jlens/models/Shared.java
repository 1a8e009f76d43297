package dev.jlens.models;

import java.nio.file.Path;

/** Paths into ../shared, the material every checkout has beside it. */
final class Shared {
    private Shared() {}

    static Path path(String relative) {
        return Path.of(System.getProperty("jlens.shared", "../../shared")).resolve(relative);
    }
}
