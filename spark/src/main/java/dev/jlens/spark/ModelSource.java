package dev.jlens.spark;

import dev.jlens.engine.JlensException;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.HubDownloader;
import dev.jlens.models.hub.ModelLocator;
import dev.jlens.models.loading.LoadedModel;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkFiles;

/**
 * How an executor finds the model, named on the driver: a directory every executor can read at the
 * same path, a directory shipped with the job through Spark's file distribution, or a name each
 * executor resolves through its own Hugging Face cache (a shipped organism or a hub model). Each
 * executor JVM loads a model once and keeps it for every task it runs.
 *
 * @param kind    how it is found
 * @param name    the path, the shipped directory's name, or the model name
 * @param process TransformerLens weight processing, as {@code --process} takes it
 */
public record ModelSource(Kind kind, String name, String process) implements Serializable {
    public enum Kind { PATH, SHIPPED, NAME }

    /** The models this JVM has loaded, by source: one per executor, whatever the number of tasks. */
    private static final ConcurrentHashMap<ModelSource, LoadedModel> LOADED = new ConcurrentHashMap<>();

    /** The model on this executor, loaded the first time a task asks. */
    public LoadedModel load() {
        return LOADED.computeIfAbsent(this, s -> LoadedModel.load(s.directory(), WeightProcessing.Options.parse(s.process())));
    }

    /** How many models this JVM has loaded (for tests). */
    static int loadedHere() {
        return LOADED.size();
    }

    private Path directory() {
        return switch (kind) {
            case PATH -> {
                Path dir = Path.of(name);
                if (!Files.isDirectory(dir)) throw new JlensException(name + ": is not a model directory this executor can read.");
                yield dir;
            }
            case SHIPPED -> Path.of(SparkFiles.get(name));
            case NAME -> ModelLocator.locate(name, HubDownloader.Listener.NONE);
        };
    }
}
