package dev.jlens.models.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads from a hub served on loopback, into a cache laid out as huggingface_hub lays it out. */
class HubTest {
    private static final String REPO = "jlens-test/gpt2-organism";

    @TempDir
    Path dir;
    FakeHub hub;
    Path organism;
    Map<String, byte[]> files = new LinkedHashMap<>();

    @BeforeEach
    void serveTheShippedOrganism() throws IOException {
        organism = ShippedModels.resolve(ShippedModels.GPT2);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "README.md")) files.put(f, Files.readAllBytes(organism.resolve(f)));
        hub = new FakeHub();
        hub.put(REPO, files);
    }

    @AfterEach
    void stop() {
        hub.close();
    }

    HubSettings settings(boolean offline, String token) {
        return new HubSettings(hub.endpoint(), token, dir.resolve("hub"), offline);
    }

    Path download(HubSettings s) {
        return new HubDownloader(s).snapshot(REPO, "main", REPO, HubDownloader.Listener.NONE);
    }

    @Test
    void aFirstDownloadLaysOutBlobsSnapshotsAndRefsAsHuggingFaceHubDoesAndLoads() throws IOException {
        Path snapshot = download(settings(false, "hf_secret"));
        Path repoDir = dir.resolve("hub/models--jlens-test--gpt2-organism");
        assertEquals(repoDir.resolve("snapshots").resolve(FakeHub.COMMIT), snapshot);
        assertEquals(FakeHub.COMMIT, Files.readString(repoDir.resolve("refs/main")));
        Path weights = snapshot.resolve("model.safetensors");
        assertTrue(Files.isSymbolicLink(weights));
        assertEquals(Path.of("../../blobs/" + FakeHub.sha256(files.get("model.safetensors"))), Files.readSymbolicLink(weights));
        assertEquals(Path.of("../../blobs/" + FakeHub.gitBlob(files.get("config.json"))), Files.readSymbolicLink(snapshot.resolve("config.json")));
        assertFalse(Files.exists(snapshot.resolve("README.md")), "only what a model needs is fetched");
        try (Stream<Path> blobs = Files.list(repoDir.resolve("blobs"))) {
            assertTrue(blobs.noneMatch(b -> b.toString().endsWith(".incomplete")));
        }
        assertTrue(hub.authorizations.contains("Bearer hf_secret"), "HF_TOKEN is sent to the hub");

        Tokens tokens = Tokens.of(1987, 5, 17, 300);
        assertArrayEquals(LoadedModel.load(organism).model().forward(tokens).data(), LoadedModel.load(snapshot).model().forward(tokens).data());
    }

    @Test
    void aSecondDownloadIsACacheHitWithNoFileRequest() {
        download(settings(false, null));
        int before = hub.fileDownloads().size();
        download(settings(false, null));
        assertEquals(before, hub.fileDownloads().size(), hub.requests.toString());
        assertTrue(hub.authorizations.isEmpty(), "no token, no Authorization header");
    }

    @Test
    void aConnectionDroppedMidFileIsResumedWithARangeRequest() throws IOException {
        long half = files.get("model.safetensors").length / 2;
        hub.dropOnceAfter.put("model.safetensors", half);
        Path snapshot = download(settings(false, null));
        // A hang-up can also lose bytes already in flight, so the resume starts at what arrived: after 0, at most half.
        List<Long> resumedFrom = hub.requests.stream()
                .filter(r -> r.contains("/model.safetensors bytes="))
                .map(r -> Long.parseLong(r.substring(r.indexOf("bytes=") + "bytes=".length(), r.length() - 1)))
                .toList();
        assertEquals(1, resumedFrom.size(), hub.requests.toString());
        assertTrue(resumedFrom.get(0) > 0 && resumedFrom.get(0) <= half, hub.requests.toString());
        assertArrayEquals(files.get("model.safetensors"), Files.readAllBytes(snapshot.resolve("model.safetensors")));
    }

    @Test
    void aChecksumMismatchIsRefusedAndNothingIsCached() throws IOException {
        hub.corrupt.put("model.safetensors", true);
        JlensException e = assertThrows(JlensException.class, () -> download(settings(false, null)));
        assertTrue(e.getMessage().contains("/model.safetensors: the checksum of what arrived"), e.getMessage());
        assertTrue(e.getMessage().endsWith("nothing was cached."), e.getMessage());
        Path blobs = dir.resolve("hub/models--jlens-test--gpt2-organism/blobs");
        try (Stream<Path> s = Files.list(blobs)) {
            assertTrue(s.noneMatch(b -> b.getFileName().toString().startsWith(FakeHub.sha256(files.get("model.safetensors")))));
        }
        assertFalse(Files.exists(dir.resolve("hub/models--jlens-test--gpt2-organism/snapshots/" + FakeHub.COMMIT + "/model.safetensors")));
        assertFalse(Files.exists(dir.resolve("hub/models--jlens-test--gpt2-organism/refs/main")));
    }

    @Test
    void offlineTheCacheServesAndAMissingModelSaysHowToGetIt() {
        Path online = download(settings(false, null));
        hub.close();
        assertEquals(online, download(settings(true, null)));
        JlensException e = assertThrows(JlensException.class,
                () -> new HubDownloader(settings(true, null)).snapshot("EleutherAI/pythia-70m-v0", "main", "pythia-70m-v0", HubDownloader.Listener.NONE));
        assertTrue(e.getMessage().startsWith("pythia-70m-v0 (EleutherAI/pythia-70m-v0) is not in the Hugging Face cache at "), e.getMessage());
        assertTrue(e.getMessage().endsWith("HF_HUB_OFFLINE is set; fetch it once with the network on: jlens download pythia-70m-v0."), e.getMessage());
    }

    @Test
    void aCacheWrittenByPythonsHuggingFaceHubIsReadByName() throws IOException {
        // As huggingface_hub leaves gpt2 after from_pretrained: blobs named by etag, relative links, refs/main.
        Path repoDir = dir.resolve("hub/models--gpt2"), snapshot = repoDir.resolve("snapshots/" + FakeHub.COMMIT);
        Files.createDirectories(repoDir.resolve("blobs"));
        Files.createDirectories(snapshot);
        Files.createDirectories(repoDir.resolve("refs"));
        Files.writeString(repoDir.resolve("refs/main"), FakeHub.COMMIT);
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
            String etag = FakeHub.isLarge(f) ? FakeHub.sha256(files.get(f)) : FakeHub.gitBlob(files.get(f));
            Files.write(repoDir.resolve("blobs").resolve(etag), files.get(f));
            Files.createSymbolicLink(snapshot.resolve(f), Path.of("../../blobs").resolve(etag));
        }
        assertEquals(snapshot, ModelLocator.locate("gpt2-small", settings(true, null), HubDownloader.Listener.NONE));
        // Online, the files are already in the snapshot: only the revision is asked for.
        hub.put("gpt2", files);
        assertEquals(snapshot, ModelLocator.locate("gpt2", settings(false, null), HubDownloader.Listener.NONE));
        assertTrue(hub.fileDownloads().isEmpty(), hub.requests.toString());
    }

    @Test
    void shardedSafetensorsAreFetchedByTheirIndexAndLoadAsOne() throws IOException {
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\":{},\"weight_map\":{");
        try (SafetensorsFile whole = SafetensorsFile.open(organism.resolve("model.safetensors"))) {
            int i = 0;
            for (String name : whole.names()) {
                String shard = i % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (i % 2 == 0 ? first : second).put(name, whole.read(name));
                index.append(i++ > 0 ? "," : "").append('"').append(name).append("\":\"").append(shard).append('"');
            }
        }
        Path tmp = dir.resolve("shards");
        Files.createDirectories(tmp);
        SafetensorsWriter.write(tmp.resolve("a"), first, Map.of("format", "pt"));
        SafetensorsWriter.write(tmp.resolve("b"), second, Map.of("format", "pt"));
        Map<String, byte[]> sharded = new LinkedHashMap<>();
        sharded.put("config.json", files.get("config.json"));
        sharded.put("model.safetensors.index.json", index.append("}}").toString().getBytes());
        sharded.put("model-00001-of-00002.safetensors", Files.readAllBytes(tmp.resolve("a")));
        sharded.put("model-00002-of-00002.safetensors", Files.readAllBytes(tmp.resolve("b")));
        sharded.put("tokenizer.json", files.get("tokenizer.json"));
        hub.put("org/sharded", sharded);
        Path snapshot = new HubDownloader(settings(false, null)).snapshot("org/sharded", "main", "org/sharded", HubDownloader.Listener.NONE);
        Tokens tokens = Tokens.of(1987, 40, 41, 42);
        assertArrayEquals(LoadedModel.load(organism).model().forward(tokens).data(), LoadedModel.load(snapshot).model().forward(tokens).data());
    }

    /**
     * A gated Llama-family repository, as meta-llama's are: refused in one sentence naming HF_TOKEN
     * without it; with it, a checkpoint sharded in two BF16 files by its index loads as the model
     * whose float32 weights are those BF16 values.
     */
    @Test
    void aGatedLlamaRepositoryNeedsHfTokenAndItsBf16ShardsLoadAsOneModel() throws IOException {
        Path golden = dev.jlens.testkit.Shared.path("golden/llama-micro");
        Map<String, Tensor> rounded = new LinkedHashMap<>();
        try (SafetensorsFile whole = SafetensorsFile.open(golden.resolve("model.safetensors"))) {
            for (String name : whole.names()) rounded.put(name, toBf16AndBack(whole.read(name)));
        }
        List<String> names = new ArrayList<>(rounded.keySet());
        Map<String, Tensor> first = new LinkedHashMap<>(), second = new LinkedHashMap<>();
        StringBuilder index = new StringBuilder("{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        for (int i = 0; i < names.size(); i++) {
            String shard = i < names.size() / 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (i < names.size() / 2 ? first : second).put(names.get(i), rounded.get(names.get(i)));
            index.append(i > 0 ? "," : "").append('"').append(names.get(i)).append("\":\"").append(shard).append('"');
        }
        Map<String, byte[]> repo = new LinkedHashMap<>();
        repo.put("config.json", Files.readAllBytes(golden.resolve("config.json")));
        repo.put("model.safetensors.index.json", index.append("}}").toString().getBytes(StandardCharsets.UTF_8));
        repo.put("model-00001-of-00002.safetensors", bf16Safetensors(first));
        repo.put("model-00002-of-00002.safetensors", bf16Safetensors(second));
        hub.put("meta-llama/Llama-3.2-1B", repo);
        hub.gate("meta-llama/Llama-3.2-1B", "hf_granted");

        JlensException refused = assertThrows(JlensException.class, () -> new HubDownloader(settings(false, null))
                .snapshot("meta-llama/Llama-3.2-1B", "main", "meta-llama/Llama-3.2-1B", HubDownloader.Listener.NONE));
        assertTrue(refused.getMessage().endsWith("the hub refused access (HTTP 401); a gated or private model needs HF_TOKEN."), refused.getMessage());

        Path snapshot = new HubDownloader(settings(false, "hf_granted"))
                .snapshot("meta-llama/Llama-3.2-1B", "main", "meta-llama/Llama-3.2-1B", HubDownloader.Listener.NONE);
        Path f32 = dir.resolve("llama-f32");
        Files.createDirectories(f32);
        Files.copy(golden.resolve("config.json"), f32.resolve("config.json"));
        SafetensorsWriter.write(f32.resolve("model.safetensors"), rounded, Map.of("format", "pt"));
        Tokens tokens = Tokens.of(1, 40, 41, 42, 300, 7);
        assertArrayEquals(dev.jlens.models.loading.ModelLoader.load(f32).forward(tokens).data(),
                dev.jlens.models.loading.ModelLoader.load(snapshot).forward(tokens).data());
    }

    /**
     * Gemma 2's repositories are gated too: TransformerLens's name gemma-2-2b resolves to
     * google/gemma-2-2b, refused in one sentence naming HF_TOKEN without it, and with it the
     * checkpoint loads as the model it holds.
     */
    @Test
    void gemma2ResolvesToItsGatedGoogleRepository() throws IOException {
        Path golden = dev.jlens.testkit.Shared.path("golden/gemma2-micro");
        String repoName = dev.jlens.models.hub.ModelNames.repository("gemma-2-2b");
        assertEquals("google/gemma-2-2b", repoName);
        assertEquals("google/gemma-2-9b", dev.jlens.models.hub.ModelNames.repository("Gemma-2-9B"));
        Map<String, byte[]> repo = new LinkedHashMap<>();
        repo.put("config.json", Files.readAllBytes(golden.resolve("config.json")));
        repo.put("model.safetensors", Files.readAllBytes(golden.resolve("model.safetensors")));
        hub.put(repoName, repo);
        hub.gate(repoName, "hf_gemma");

        JlensException refused = assertThrows(JlensException.class, () -> new HubDownloader(settings(false, null))
                .snapshot(repoName, "main", "gemma-2-2b", HubDownloader.Listener.NONE));
        assertTrue(refused.getMessage().endsWith("the hub refused access (HTTP 401); a gated or private model needs HF_TOKEN."), refused.getMessage());
        Path snapshot = new HubDownloader(settings(false, "hf_gemma")).snapshot(repoName, "main", "gemma-2-2b", HubDownloader.Listener.NONE);
        Tokens tokens = Tokens.of(2, 40, 41, 42, 300, 7);
        assertArrayEquals(dev.jlens.models.loading.ModelLoader.load(golden).forward(tokens).data(),
                dev.jlens.models.loading.ModelLoader.load(snapshot).forward(tokens).data());
    }

    private static Tensor toBf16AndBack(Tensor t) {
        float[] out = t.data().clone();
        for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat(Float.floatToIntBits(out[i]) & 0xffff0000);
        return Tensor.of(out, t.shape());
    }

    /** A safetensors file of BF16 tensors (the top 16 bits of each float, which toBf16AndBack kept). */
    private static byte[] bf16Safetensors(Map<String, Tensor> tensors) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = 2L * e.getValue().size();
            header.append(offset > 0 ? "," : "").append('"').append(e.getKey()).append("\":{\"dtype\":\"BF16\",\"shape\":")
                    .append(java.util.Arrays.toString(e.getValue().shape()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + json.length + (int) offset).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json);
        for (Tensor t : tensors.values()) for (float v : t.data()) out.putShort((short) (Float.floatToIntBits(v) >>> 16));
        return out.array();
    }

    @Test
    void aMissingRepositoryNamesTheUrl() {
        JlensException e = assertThrows(JlensException.class,
                () -> new HubDownloader(settings(false, null)).snapshot("org/none", "main", "org/none", HubDownloader.Listener.NONE));
        assertEquals(hub.endpoint() + "/api/models/org/none/revision/main: not found on the hub (HTTP 404).", e.getMessage());
    }
}
