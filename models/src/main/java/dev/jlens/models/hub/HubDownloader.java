package dev.jlens.models.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Fetches what a model needs from the Hugging Face hub into the {@link HubCache}: the repository's
 * file list at a revision, then config.json, the weights (model.safetensors; else the shards of its
 * index; else pytorch_model.bin; else its one .pth file) and the tokenizer files. Each file goes to
 * {@code blobs/<etag>.incomplete}, resumes from there with a Range request after a dropped
 * connection, is checked against its size and its etag (the SHA-256 of large files, the git blob hash
 * of small ones), and only then is moved into place in one step; a file the snapshot already has is
 * not fetched again.
 */
public final class HubDownloader {
    /** Told of each file's progress, for a progress bar. */
    public interface Listener {
        void file(String name, long size);

        void progress(long bytes);

        Listener NONE = new Listener() {
            public void file(String name, long size) {}

            public void progress(long bytes) {}
        };
    }

    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
            "special_tokens_map.json");
    private static final int ATTEMPTS = 3;

    private final HubSettings settings;
    private final HubCache cache;
    private final HttpClient http, following;

    public HubDownloader(HubSettings settings) {
        this.settings = settings;
        this.cache = new HubCache(settings.cache());
        // Metadata requests see the hub's own redirects (to the storage of large files); downloads follow them.
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(20)).build();
        this.following = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).connectTimeout(Duration.ofSeconds(20)).build();
    }

    public HubCache cache() {
        return cache;
    }

    /** The snapshot directory of {@code repo} at {@code revision}, fetched first when online. */
    public Path snapshot(String repo, String revision, String name, Listener listener) {
        if (settings.offline()) {
            Path dir = cache.snapshot(repo, revision).filter(d -> Files.isRegularFile(d.resolve("config.json"))).orElseThrow(() ->
                    new JlensException(name + " (" + repo + ") is not in the Hugging Face cache at " + cache.root() + ", and HF_HUB_OFFLINE is set; "
                            + "fetch it once with the network on: jlens download " + name + "."));
            return dir;
        }
        JsonNode info = getJson(settings.endpoint() + "/api/models/" + repo + "/revision/" + encode(revision), repo);
        String commit = info.path("sha").asText();
        if (!commit.matches("[0-9a-f]{40}")) throw new JlensException(url(repo, revision, "") + ": the hub did not name the commit of " + revision + ".");
        Set<String> files = new LinkedHashSet<>();
        for (JsonNode s : info.path("siblings")) files.add(s.path("rfilename").asText());
        if (!files.contains("config.json")) throw new JlensException(repo + " has no config.json at " + revision + ", so jlens cannot load it.");
        List<String> wanted = new ArrayList<>(List.of("config.json"));
        if (files.contains("model.safetensors")) wanted.add("model.safetensors");
        else if (files.contains("model.safetensors.index.json")) wanted.add("model.safetensors.index.json");
        else if (files.contains("pytorch_model.bin")) wanted.add("pytorch_model.bin");
        else {
            List<String> pth = files.stream().filter(f -> f.endsWith(".pth") && !f.contains("/")).toList();
            if (pth.size() != 1) throw new JlensException(repo + " has no model.safetensors, sharded safetensors, pytorch_model.bin or single .pth file.");
            wanted.add(pth.getFirst());
        }
        for (String t : TOKENIZER_FILES) if (files.contains(t)) wanted.add(t);
        for (String file : wanted) fetch(repo, commit, file, listener);
        if (wanted.contains("model.safetensors.index.json")) {
            JsonNode index = readJson(cache.snapshotDir(repo, commit).resolve("model.safetensors.index.json"));
            Set<String> shards = new LinkedHashSet<>();
            index.path("weight_map").forEach(v -> shards.add(v.asText()));
            for (String shard : shards) fetch(repo, commit, shard, listener);
        }
        cache.writeRef(repo, revision, commit);
        return cache.snapshotDir(repo, commit);
    }

    /**
     * The snapshot directory of {@code repo} at {@code revision} holding {@code files} (paths inside
     * the repository, such as an SAE's {@code blocks.8.hook_resid_pre/cfg.json}), fetched first when online.
     */
    public Path files(String repo, String revision, List<String> files, String name, Listener listener) {
        if (settings.offline()) {
            return cache.snapshot(repo, revision).filter(d -> files.stream().allMatch(f -> Files.isRegularFile(d.resolve(f)))).orElseThrow(() ->
                    new JlensException(name + " (" + repo + ") is not in the Hugging Face cache at " + cache.root() + ", and HF_HUB_OFFLINE is set; "
                            + "fetch it once with the network on."));
        }
        JsonNode info = getJson(settings.endpoint() + "/api/models/" + repo + "/revision/" + encode(revision), repo);
        String commit = info.path("sha").asText();
        if (!commit.matches("[0-9a-f]{40}")) throw new JlensException(url(repo, revision, "") + ": the hub did not name the commit of " + revision + ".");
        Set<String> present = new LinkedHashSet<>();
        for (JsonNode s : info.path("siblings")) present.add(s.path("rfilename").asText());
        for (String file : files) if (!present.contains(file)) throw new JlensException(repo + " has no " + file + " at " + revision + ", which " + name + " needs.");
        for (String file : files) fetch(repo, commit, file, listener);
        cache.writeRef(repo, revision, commit);
        return cache.snapshotDir(repo, commit);
    }

    private void fetch(String repo, String commit, String file, Listener listener) {
        Path inSnapshot = cache.snapshotDir(repo, commit).resolve(file);
        if (Files.isRegularFile(inSnapshot)) return; // the cache has it, from jlens or from Python
        String url = url(repo, commit, file);
        HttpResponse<Void> head = send(HttpRequest.newBuilder(URI.create(url)).method("HEAD", HttpRequest.BodyPublishers.noBody()), url,
                HttpResponse.BodyHandlers.discarding());
        String etag = normaliseEtag(head.headers().firstValue("X-Linked-Etag").or(() -> head.headers().firstValue("ETag")).orElse(null));
        if (etag == null) throw new JlensException(url + ": the hub sent no ETag, so the file cannot be checked or cached.");
        long size = head.headers().firstValue("X-Linked-Size").or(() -> head.headers().firstValue("Content-Length")).map(Long::parseLong).orElse(-1L);
        String source = head.statusCode() / 100 == 3 ? URI.create(url).resolve(head.headers().firstValue("Location").orElseThrow(() ->
                new JlensException(url + ": the hub redirected without a Location."))).toString() : url;
        Path blob = cache.blob(repo, etag);
        if (!Files.isRegularFile(blob)) download(source, url, blob, etag, size, file, listener);
        cache.link(repo, commit, file, etag);
    }

    private void download(String source, String url, Path blob, String etag, long size, String file, Listener listener) {
        Path partial = blob.resolveSibling(etag + ".incomplete");
        listener.file(file, size);
        IOException last = null;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            try {
                Files.createDirectories(blob.getParent());
                long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
                if (size >= 0 && have == size) break;
                HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(source)).GET();
                if (have > 0) request.header("Range", "bytes=" + have + "-");
                HttpResponse<InputStream> response = send(following, request, url, HttpResponse.BodyHandlers.ofInputStream());
                boolean resumed = response.statusCode() == 206;
                if (!resumed) have = 0;
                listener.progress(have);
                try (InputStream in = response.body();
                     OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE,
                             resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        out.write(buffer, 0, n);
                        have += n;
                        listener.progress(have);
                    }
                }
                last = null;
                break;
            } catch (IOException e) {
                last = e; // the connection dropped: what arrived stays in the .incomplete file, and the next attempt resumes from it
            }
        }
        if (last != null) {
            throw new JlensException("downloading " + url + " failed (" + JlensException.describe(last) + "); what arrived is kept, and running "
                    + "the command again resumes it.", last);
        }
        try {
            long got = Files.size(partial);
            if (size >= 0 && got != size) {
                Files.delete(partial);
                throw new JlensException(url + ": " + got + " bytes arrived where the hub announced " + size + "; nothing was cached.");
            }
            String actual = etag.length() == 64 ? digest(partial, "SHA-256", null) : digest(partial, "SHA-1", ("blob " + got + "\0").getBytes(StandardCharsets.US_ASCII));
            if (!actual.equals(etag)) {
                Files.delete(partial);
                throw new JlensException(url + ": the checksum of what arrived (" + actual + ") is not the hub's (" + etag + "); nothing was cached.");
            }
            Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new JlensException("cannot finish " + blob + " (" + JlensException.describe(e) + ").", e);
        }
    }

    /** SHA-256 of the file (LFS files' etag), or SHA-1 of a git blob header and the file (small files' etag). */
    private static String digest(Path file, String algorithm, byte[] prefix) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            if (prefix != null) md.update(prefix);
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) md.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String normaliseEtag(String etag) {
        if (etag == null) return null;
        String e = etag.trim();
        if (e.startsWith("W/")) e = e.substring(2);
        if (e.startsWith("\"") && e.endsWith("\"") && e.length() >= 2) e = e.substring(1, e.length() - 1);
        return e.isEmpty() || !e.matches("[0-9A-Za-z._-]+") ? null : e;
    }

    private String url(String repo, String revision, String file) {
        return settings.endpoint() + "/" + repo + "/resolve/" + encode(revision) + "/" + file;
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private JsonNode getJson(String url, String repo) {
        HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(url)).GET(), url, HttpResponse.BodyHandlers.ofString());
        try {
            return new ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new JlensException(url + ": the hub's answer about " + repo + " is not JSON.", e);
        }
    }

    private static JsonNode readJson(Path file) {
        return Json.read(file);
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder request, String url, HttpResponse.BodyHandler<T> body) {
        return send(http, request, url, body);
    }

    private <T> HttpResponse<T> send(HttpClient client, HttpRequest.Builder request, String url, HttpResponse.BodyHandler<T> body) {
        if (settings.token() != null && request.build().uri().toString().startsWith(settings.endpoint())) {
            request.header("Authorization", "Bearer " + settings.token());
        }
        request.header("User-Agent", "jlens/0.1.0");
        HttpResponse<T> response;
        try {
            response = client.send(request.timeout(Duration.ofMinutes(5)).build(), body);
        } catch (IOException e) {
            throw new JlensException("cannot reach " + url + " (" + JlensException.describe(e) + ").", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JlensException("interrupted while fetching " + url + ".", e);
        }
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            throw new JlensException(url + ": the hub refused access (HTTP " + status + ")" + (settings.token() == null
                    ? "; a gated or private model needs HF_TOKEN." : "; HF_TOKEN does not grant it."));
        }
        if (status == 404) throw new JlensException(url + ": not found on the hub (HTTP 404).");
        if (status >= 400) throw new JlensException(url + ": the hub answered HTTP " + status + ".");
        return response;
    }
}
