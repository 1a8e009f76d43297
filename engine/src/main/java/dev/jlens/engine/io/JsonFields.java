package dev.jlens.engine.io;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;

/** Typed fields of a JSON configuration file, each missing or mistyped one refused in a sentence naming the file and key. */
public final class JsonFields {
    private JsonFields() {}

    /** A whole number that fits an int. */
    public static int integer(Object file, JsonNode json, String key) {
        JsonNode node = json.get(key);
        if (node == null) throw new JlensException(file + ": has no '" + key + "'.");
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            throw new JlensException(file + ": '" + key + "' is " + JlensException.quote(node.toString()) + ", not a whole number jlens can hold.");
        }
        return node.asInt();
    }

    /** A number, or {@code fallback} when the key is absent or null. */
    public static double number(Object file, JsonNode json, String key, double fallback) {
        JsonNode node = json.get(key);
        if (node == null || node.isNull()) return fallback;
        if (!node.isNumber()) throw new JlensException(file + ": '" + key + "' is not a number.");
        return node.asDouble();
    }

    /** A string that must be there. */
    public static String text(Object file, JsonNode json, String key) {
        JsonNode node = json.get(key);
        if (node == null || !node.isTextual()) throw new JlensException(file + ": has no '" + key + "'.");
        return node.asText();
    }

    /** A boolean, or {@code fallback} when the key is absent or null. */
    public static boolean bool(Object file, JsonNode json, String key, boolean fallback) {
        JsonNode node = json.get(key);
        if (node == null || node.isNull()) return fallback;
        if (!node.isBoolean()) throw new JlensException(file + ": '" + key + "' is " + JlensException.quote(node.toString()) + ", not true or false.");
        return node.asBoolean();
    }
}
