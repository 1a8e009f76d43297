package dev.jlens.models.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Hugging Face hub on loopback, in the hub's URL and header scheme: the revision API, and
 * {@code /<repo>/resolve/<revision>/<file>} answering HEAD with X-Repo-Commit and an ETag (the git
 * blob hash), or for large files a 302 to storage with X-Linked-Etag (SHA-256) and X-Linked-Size;
 * GET honours Range. It can drop a connection mid-file once, or serve corrupted bytes.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    final HttpServer server;
    final Map<String, Map<String, byte[]>> repos = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> authorizations = new CopyOnWriteArrayList<>();
    final Map<String, Long> dropOnceAfter = new ConcurrentHashMap<>();
    final Map<String, Boolean> corrupt = new ConcurrentHashMap<>();
    /** Gated repositories and the token each accepts: anything else gets 401, as the hub answers. */
    final Map<String, String> gates = new ConcurrentHashMap<>();

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void put(String repo, Map<String, byte[]> files) {
        repos.put(repo, new LinkedHashMap<>(files));
    }

    /** Makes {@code repo} gated: only requests bearing {@code token} get in. */
    public void gate(String repo, String token) {
        gates.put(repo, token);
    }

    static boolean isLarge(String file) {
        return file.endsWith(".safetensors") || file.endsWith(".bin") || file.endsWith(".pth");
    }

    static String sha256(byte[] data) {
        return hex("SHA-256", new byte[0], data);
    }

    static String gitBlob(byte[] data) {
        return hex("SHA-1", ("blob " + data.length + "\0").getBytes(StandardCharsets.US_ASCII), data);
    }

    private static String hex(String algorithm, byte[] prefix, byte[] data) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            md.update(prefix);
            return HexFormat.of().formatHex(md.digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The GET requests for files (storage or resolve), not counting metadata. */
    public List<String> fileDownloads() {
        List<String> out = new ArrayList<>();
        for (String r : requests) if (r.startsWith("GET ") && !r.contains("/api/")) out.add(r);
        return out;
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(method + " " + path + (range == null ? "" : " " + range));
        String auth = ex.getRequestHeaders().getFirst("Authorization");
        if (auth != null) authorizations.add(auth);
        try (ex) {
            for (Map.Entry<String, String> gate : gates.entrySet()) {
                boolean inRepo = path.startsWith("/api/models/" + gate.getKey() + "/") || path.startsWith("/" + gate.getKey() + "/resolve/")
                        || path.startsWith("/storage/" + gate.getKey().replace("/", "--") + "/");
                if (inRepo && !("Bearer " + gate.getValue()).equals(auth)) {
                    ex.sendResponseHeaders(401, -1);
                    return;
                }
            }
            if (path.startsWith("/api/models/")) {
                String rest = path.substring("/api/models/".length());
                String repo = rest.substring(0, rest.indexOf("/revision/"));
                Map<String, byte[]> files = repos.get(repo);
                if (files == null) { ex.sendResponseHeaders(404, -1); return; }
                StringBuilder json = new StringBuilder("{\"id\":\"" + repo + "\",\"sha\":\"" + COMMIT + "\",\"siblings\":[");
                int i = 0;
                for (String f : files.keySet()) json.append(i++ > 0 ? "," : "").append("{\"rfilename\":\"").append(f).append("\"}");
                byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                return;
            }
            if (path.startsWith("/storage/")) {
                String[] parts = path.substring("/storage/".length()).split("/", 2);
                serve(ex, parts[1], repos.get(parts[0].replace("--", "/")).get(parts[1]), range);
                return;
            }
            int resolve = path.indexOf("/resolve/");
            String repo = path.substring(1, resolve);
            String[] rest = path.substring(resolve + "/resolve/".length()).split("/", 2);
            byte[] data = repos.getOrDefault(repo, Map.of()).get(rest[1]);
            if (data == null) { ex.sendResponseHeaders(404, -1); return; }
            ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            if (isLarge(rest[1])) {
                ex.getResponseHeaders().add("X-Linked-Etag", "\"" + sha256(data) + "\"");
                ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(data.length));
                ex.getResponseHeaders().add("Location", "/storage/" + repo.replace("/", "--") + "/" + rest[1]);
                ex.sendResponseHeaders(302, -1);
                return;
            }
            ex.getResponseHeaders().add("ETag", "\"" + gitBlob(data) + "\"");
            if (method.equals("HEAD")) {
                ex.getResponseHeaders().add("Content-Length", String.valueOf(data.length));
                ex.sendResponseHeaders(200, -1);
                return;
            }
            serve(ex, rest[1], data, range);
        }
    }

    private void serve(HttpExchange ex, String file, byte[] data, String range) throws IOException {
        byte[] body = data;
        if (Boolean.TRUE.equals(corrupt.get(file))) {
            body = data.clone();
            body[body.length / 2] ^= 1;
        }
        int from = 0;
        if (range != null) {
            from = Integer.parseInt(range.substring("bytes=".length(), range.indexOf('-')));
            ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (body.length - 1) + "/" + body.length);
        }
        ex.sendResponseHeaders(range == null ? 200 : 206, body.length - from);
        OutputStream out = ex.getResponseBody();
        Long drop = dropOnceAfter.remove(file);
        if (drop != null) {
            out.write(body, from, (int) (drop - from));
            out.flush();
            // Hang up mid-file: the client sees the connection end before the length it was promised.
            throw new IOException("dropping the connection on purpose");
        }
        out.write(body, from, body.length - from);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
