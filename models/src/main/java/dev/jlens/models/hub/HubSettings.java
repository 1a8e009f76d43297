package dev.jlens.models.hub;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where and how to reach the Hugging Face hub, from the environment variables {@code huggingface_hub}
 * reads: HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE (else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub,
 * else ~/.cache/huggingface/hub) and HF_HUB_OFFLINE.
 */
public record HubSettings(String endpoint, String token, Path cache, boolean offline) {
    public static HubSettings fromEnvironment() {
        return from(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    static HubSettings from(Map<String, String> env, Path home) {
        String endpoint = env.getOrDefault("HF_ENDPOINT", "https://huggingface.co");
        while (endpoint.endsWith("/")) endpoint = endpoint.substring(0, endpoint.length() - 1);
        try {
            java.net.URI uri = new java.net.URI(endpoint);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new java.net.URISyntaxException(endpoint, "not an http or https address with a host");
            }
        } catch (java.net.URISyntaxException e) {
            throw new dev.jlens.engine.JlensException("HF_ENDPOINT '" + env.get("HF_ENDPOINT") + "' is not an http(s) address such as https://huggingface.co.");
        }
        Path cache;
        if (present(env, "HF_HUB_CACHE")) cache = Path.of(env.get("HF_HUB_CACHE"));
        else if (present(env, "HF_HOME")) cache = Path.of(env.get("HF_HOME")).resolve("hub");
        else if (present(env, "XDG_CACHE_HOME")) cache = Path.of(env.get("XDG_CACHE_HOME")).resolve("huggingface").resolve("hub");
        else cache = home.resolve(".cache").resolve("huggingface").resolve("hub");
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "").trim().toLowerCase(java.util.Locale.ROOT);
        return new HubSettings(endpoint, present(env, "HF_TOKEN") ? env.get("HF_TOKEN") : null, cache,
                offline.equals("1") || offline.equals("true") || offline.equals("yes") || offline.equals("on"));
    }

    private static boolean present(Map<String, String> env, String key) {
        return env.get(key) != null && !env.get(key).isBlank();
    }
}
