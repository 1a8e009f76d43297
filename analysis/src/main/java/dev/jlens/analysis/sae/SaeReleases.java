package dev.jlens.analysis.sae;

import dev.jlens.engine.JlensException;
import dev.jlens.models.hub.HubDownloader;
import dev.jlens.models.hub.HubSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SAELens's pretrained releases, named as SAELens names them ({@code gpt2-small-res-jb} /
 * {@code blocks.8.hook_resid_pre}), resolved to a Hugging Face repository and folder and fetched
 * through the hub's cache like a model. The table is SAELens's pretrained list for the GPT-2 small
 * and Pythia-70m-deduped releases kept in its own layout.
 */
public final class SaeReleases {
    /**
     * One SAE of a release: where it lies, the norm scaling factor SAELens folds in when loading it
     * (0: none), and for a Gemma Scope SAE (its release's own params.npz, which names no hook) the
     * hook it reads (null for SAELens's layout).
     */
    public record Entry(String release, String repo, String id, String folder, double normScalingFactor, String npzHook) {}

    private static final Map<String, Map<String, Entry>> RELEASES = read();

    private SaeReleases() {}

    public static List<String> releases() {
        return List.copyOf(RELEASES.keySet());
    }

    /** The SAE ids of a release jlens knows, in SAELens's order. */
    public static List<String> ids(String release) {
        return List.copyOf(RELEASES.getOrDefault(release, Map.of()).keySet());
    }

    /** The entry of {@code release}/{@code id}, or one sentence naming what is unknown and what there is. */
    public static Entry entry(String release, String id) {
        Map<String, Entry> saes = RELEASES.get(release);
        if (saes == null) {
            throw new JlensException("'" + release + "' is not an SAELens release jlens knows; it knows " + String.join(", ", RELEASES.keySet()) + ".");
        }
        Entry entry = saes.get(id);
        if (entry == null) {
            List<String> ids = new ArrayList<>(saes.keySet());
            throw new JlensException("release " + release + " has no SAE '" + id + "'; its ids are " + String.join(", ", ids.subList(0, Math.min(6, ids.size())))
                    + (ids.size() > 6 ? ", ..." : "") + ".");
        }
        return entry;
    }

    /** Fetches (or finds in the cache) the SAE {@code id} of {@code release} and loads it, its norm scaling factor folded in. */
    public static Sae load(String release, String id, HubSettings settings, HubDownloader.Listener listener) {
        Entry e = entry(release, id);
        if (e.npzHook() != null) {
            Path snapshot = new HubDownloader(settings).files(e.repo(), "main", List.of(e.folder() + "/params.npz"), release + "/" + id, listener);
            return SaeFiles.loadNpz(snapshot.resolve(e.folder()).resolve("params.npz")).atHook(e.npzHook());
        }
        Path snapshot = new HubDownloader(settings).files(e.repo(), "main", List.of(e.folder() + "/" + SaeFiles.CONFIG, e.folder() + "/" + SaeFiles.WEIGHTS),
                release + "/" + id, listener);
        Sae sae = SaeFiles.load(snapshot.resolve(e.folder()));
        if (sae.cfg().normalization() == SaeConfig.Normalization.EXPECTED_AVERAGE_ONLY_IN && e.normScalingFactor() > 0) {
            return sae.foldNormScalingFactor(e.normScalingFactor());
        }
        return sae;
    }

    private static Map<String, Map<String, Entry>> read() {
        Map<String, Map<String, Entry>> releases = new LinkedHashMap<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(
                SaeReleases.class.getResourceAsStream("saelens-releases.tsv"), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split("\t", -1);
                Entry e = new Entry(f[0], f[1], f[2], f[3], f[4].isEmpty() ? 0 : Double.parseDouble(f[4]), f[5].isEmpty() ? null : f[5]);
                releases.computeIfAbsent(e.release(), r -> new LinkedHashMap<>()).put(e.id(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return releases;
    }
}
