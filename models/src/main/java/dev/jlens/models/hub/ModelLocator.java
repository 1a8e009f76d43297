package dev.jlens.models.hub;

import dev.jlens.engine.JlensException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a {@code --model} value names, in this order: a model directory; a model that ships with
 * jlens; a TransformerLens name or a Hugging Face repository id, found in the hub cache or fetched
 * into it (as TransformerLens's from_pretrained does).
 */
public final class ModelLocator {
    private ModelLocator() {}

    /** As {@link #locate(String, HubSettings, HubDownloader.Listener)}, with the environment's settings, read only if the hub is needed. */
    public static Path locate(String name, HubDownloader.Listener listener) {
        return locate(name, null, listener);
    }

    /** @param settings the hub's settings, or null for the environment's */
    public static Path locate(String name, HubSettings settings, HubDownloader.Listener listener) {
        Path dir = Path.of(name);
        if (Files.isDirectory(dir)) return dir;
        if (ShippedModels.NAMES.contains(name)) return ShippedModels.resolve(name);
        if (dir.isAbsolute() || name.startsWith(".") || name.startsWith("~") || name.endsWith("/")) {
            throw new JlensException("--model " + name + ": no such model directory.");
        }
        return new HubDownloader(settings != null ? settings : HubSettings.fromEnvironment()).snapshot(ModelNames.repository(name), "main", name, listener);
    }
}
