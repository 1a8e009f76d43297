package dev.jlens.testkit;

import java.nio.file.Path;

/** Paths into ../shared, the material every checkout has beside it (the build passes its place as jlens.shared). */
public final class Shared {
    private Shared() {}

    public static Path path(String relative) {
        return Path.of(System.getProperty("jlens.shared", "../../shared")).resolve(relative);
    }
}
