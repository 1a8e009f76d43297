package dev.jlens.models;

/**
 * Where a model's checkpoint comes from, which decides how its config and weights are read and
 * written: the Hugging Face layouts jlens translates, or TransformerLens's own names. Nothing that
 * computes looks at it; the computation follows the {@link Config}'s parts.
 */
public enum ModelFamily {
    /** Hugging Face's GPT2LMHeadModel ({@code model_type} gpt2). */
    GPT2("gpt2", "GPT2LMHeadModel"),
    /** Hugging Face's GPTNeoXForCausalLM ({@code model_type} gpt_neox): Pythia. */
    GPT_NEOX("gpt_neox", "GPTNeoXForCausalLM"),
    /** Hugging Face's LlamaForCausalLM: Llama 2, 3, 3.1, 3.2. */
    LLAMA("llama", "LlamaForCausalLM"),
    /** Qwen2ForCausalLM (Qwen2, Qwen2.5): biases on q, k and v. */
    QWEN2("qwen2", "Qwen2ForCausalLM"),
    /** Qwen3ForCausalLM: RMS norms of each head's q and k. */
    QWEN3("qwen3", "Qwen3ForCausalLM"),
    /** MistralForCausalLM: a sliding window. */
    MISTRAL("mistral", "MistralForCausalLM"),
    /**
     * Gemma2ForCausalLM: the Llama layout plus norms after attention and the MLP, with its norm
     * weights stored as w − 1 (Gemma's RMS norm scales by 1 + w) and its embedding stored unscaled
     * (the model multiplies it by √d_model). TransformerLens, and jlens, hold 1 + w and the scaled W_E.
     */
    GEMMA2("gemma2", "Gemma2ForCausalLM"),
    /** A TransformerLens config and state dict (Neel Nanda's SoLU and GELU models, jlens's SoLU organism). */
    HOOKED_TRANSFORMER("hooked_transformer", null);

    private final String modelType;
    private final String huggingFaceClass;

    ModelFamily(String modelType, String huggingFaceClass) {
        this.modelType = modelType;
        this.huggingFaceClass = huggingFaceClass;
    }

    /** Whether it is one of the Llama family's layouts (model.layers.{i}.self_attn.q_proj, ...). */
    public boolean llamaLayout() {
        return this == LLAMA || this == QWEN2 || this == QWEN3 || this == MISTRAL || this == GEMMA2;
    }

    /** What the checkpoint's RMS norm weights are stored less than the weights they scale by: 1 for Gemma, else 0. */
    public float storedNormWeightOffset() {
        return this == GEMMA2 ? 1 : 0;
    }

    /** Whether the checkpoint's embedding is stored unscaled, to be multiplied by √d_model (Gemma). */
    public boolean scalesEmbedding() {
        return this == GEMMA2;
    }

    /** The family whose {@code model_type} is {@code name}, or null. */
    public static ModelFamily ofModelType(String name) {
        for (ModelFamily f : values()) {
            if (f.huggingFaceClass != null && name.equals(f.modelType)) return f;
        }
        return null;
    }

    /** Hugging Face's class for this layout ({@code architectures} in its config.json), or null for TransformerLens's own. */
    public String huggingFaceClass() {
        return huggingFaceClass;
    }

    /** The family whose Hugging Face class is {@code name}, or null. */
    public static ModelFamily ofHuggingFaceClass(String name) {
        for (ModelFamily f : values()) {
            if (name.equals(f.huggingFaceClass)) return f;
        }
        return null;
    }

    /** The name in a config.json: Hugging Face's {@code model_type}, or hooked_transformer. */
    public String modelType() {
        return modelType;
    }
}
