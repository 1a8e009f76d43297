package dev.jlens.models.hub;

import dev.jlens.engine.JlensException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * TransformerLens's model names and aliases, as {@code from_pretrained} resolves them (case-insensitive),
 * for the architectures jlens runs: GPT-2, Pythia (GPT-NeoX), Neel Nanda's SoLU and GELU models, and
 * the Llama family (Llama 3.x, Qwen2 and 2.5, Qwen3, Mistral) and Gemma 2 (whose repositories are gated).
 * Any {@code org/name} Hugging Face repository id is taken as it is.
 */
public final class ModelNames {
    private static final Map<String, String> REPO_BY_ALIAS = new LinkedHashMap<>();

    static {
        official("gpt2", "gpt2-small");
        official("gpt2-medium");
        official("gpt2-large");
        official("gpt2-xl");
        official("distilgpt2", "distillgpt2", "distill-gpt2", "distil-gpt2", "gpt2-xs");
        String[][] pythiaRenames = {{"14m", null}, {"31m", null}, {"70m", "19m"}, {"160m", "125m"}, {"410m", "350m"}, {"1b", "800m"},
            {"1.4b", "1.3b"}, {"2.8b", "2.7b"}, {"6.9b", "6.7b"}, {"12b", "13b"}};
        for (String[] size : pythiaRenames) {
            for (String variant : List.of("", "-deduped", "-v0", "-deduped-v0")) {
                if (size[1] == null && !variant.isEmpty()) continue; // the 14m and 31m models have no such variants
                String name = "pythia-" + size[0] + variant;
                if (size[1] == null) official("EleutherAI/" + name, name);
                else official("EleutherAI/" + name, name, "EleutherAI/pythia-" + size[1] + variant, "pythia-" + size[1] + variant);
            }
        }
        alias("pythia", "EleutherAI/pythia-70m");
        alias("pythia-v0", "EleutherAI/pythia-70m-v0");
        String[][] oldSolu = {{"1", "9"}, {"2", "10"}, {"4", "11"}, {"6", "13"}, {"8", "21"}, {"10", "22"}, {"12", "23"}};
        for (String[] s : oldSolu) official("NeelNanda/SoLU_" + s[0] + "L_v" + s[1] + "_old", "solu-" + s[0] + "l-pile", "solu-" + s[0] + "l-old");
        for (String kind : List.of("SoLU", "GELU")) {
            for (int layers = 1; layers <= 4; layers++) {
                String alias = kind.toLowerCase(Locale.ROOT) + "-" + layers + "l";
                official("NeelNanda/" + kind + "_" + layers + "L512W_C4_Code", alias, alias + "-new", alias + "-c4-code");
            }
        }
        for (String size : List.of("1B", "3B")) {
            official("meta-llama/Llama-3.2-" + size);
            official("meta-llama/Llama-3.2-" + size + "-Instruct");
        }
        for (String size : List.of("8B", "70B")) {
            official("meta-llama/Llama-3.1-" + size);
            official("meta-llama/Llama-3.1-" + size + "-Instruct");
            official("meta-llama/Meta-Llama-3-" + size);
            official("meta-llama/Meta-Llama-3-" + size + "-Instruct");
        }
        for (String size : List.of("0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B")) {
            official("Qwen/Qwen2.5-" + size);
            official("Qwen/Qwen2.5-" + size + "-Instruct");
        }
        for (String size : List.of("0.5B", "1.5B", "7B", "72B")) {
            official("Qwen/Qwen2-" + size);
            official("Qwen/Qwen2-" + size + "-Instruct");
        }
        for (String size : List.of("0.6B", "1.7B", "4B", "8B", "14B", "32B")) official("Qwen/Qwen3-" + size);
        official("mistralai/Mistral-7B-v0.1", "mistral-7b");
        official("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b-instruct");
        official("mistralai/Mistral-Nemo-Base-2407", "mistral-nemo-base-2407");
        for (String size : List.of("2b", "9b", "27b")) {
            official("google/gemma-2-" + size, "gemma-2-" + size);
            official("google/gemma-2-" + size + "-it", "gemma-2-" + size + "-it");
        }
    }

    private ModelNames() {}

    private static void official(String repo, String... aliases) {
        REPO_BY_ALIAS.put(repo.toLowerCase(Locale.ROOT), repo);
        for (String a : aliases) alias(a, repo);
    }

    private static void alias(String alias, String repo) {
        REPO_BY_ALIAS.put(alias.toLowerCase(Locale.ROOT), repo);
    }

    /** Whether {@code name} is a TransformerLens name or alias jlens knows. */
    public static boolean isKnown(String name) {
        return REPO_BY_ALIAS.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /** The Hugging Face repository of a TransformerLens name, or {@code name} itself when it is an {@code org/name} id. */
    public static String repository(String name) {
        String repo = REPO_BY_ALIAS.get(name.toLowerCase(Locale.ROOT));
        if (repo != null) return repo;
        if (name.matches("[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*")) return name;
        throw new JlensException("'" + name + "' is neither a model directory, a model that ships with jlens, a TransformerLens model name "
                + "(gpt2-small, pythia-70m, solu-1l, meta-llama/Llama-3.2-1B, Qwen/Qwen3-0.6B, mistral-7b, gemma-2-2b, ...) nor a Hugging Face repository id (org/name).");
    }
}
