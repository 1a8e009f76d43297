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
    /** A TransformerLens config and state dict (Neel Nanda's SoLU and GELU models, jlens's SoLU organism). */
    HOOKED_TRANSFORMER("hooked_transformer", null);

    private final String modelType;
    private final String huggingFaceClass;

    ModelFamily(String modelType, String huggingFaceClass) {
        this.modelType = modelType;
        this.huggingFaceClass = huggingFaceClass;
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
