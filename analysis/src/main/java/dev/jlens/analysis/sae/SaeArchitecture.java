package dev.jlens.analysis.sae;

import dev.jlens.engine.JlensException;

/**
 * How an SAE turns pre-activations into feature activations, per SAELens's architectures. Each
 * gives its activation and the mask its derivative is (1 where a feature's activation moves with
 * its pre-activation, 0 elsewhere).
 */
public enum SaeArchitecture {
    /** ReLU. */
    STANDARD("standard"),
    /** ReLU over the k largest pre-activations of each row, zero elsewhere. */
    TOPK("topk"),
    /** ReLU where the pre-activation passes the feature's threshold, zero elsewhere. */
    JUMPRELU("jumprelu"),
    /** ReLU of the magnitude path where the gate path's pre-activation is positive. */
    GATED("gated");

    final String saeLensName;

    SaeArchitecture(String saeLensName) {
        this.saeLensName = saeLensName;
    }

    public String saeLensName() {
        return saeLensName;
    }

    /** The architecture {@code --architecture} names for training: topk, or relu (the standard SAE). */
    public static SaeArchitecture trainable(String name) {
        return switch (name) {
            case "topk" -> TOPK;
            case "relu", "standard" -> STANDARD;
            default -> throw new JlensException("--architecture '" + name + "' is not one jlens trains; it takes topk or relu.");
        };
    }

    static SaeArchitecture named(String name, Object source) {
        for (SaeArchitecture a : values()) if (a.saeLensName.equals(name)) return a;
        throw new JlensException(source + ": architecture '" + name + "' is not one jlens runs (standard, topk, jumprelu, gated).");
    }
}
