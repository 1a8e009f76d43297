package dev.jlens.engine.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one way jlens reads a JSON file a user gives it (configs, safetensors headers, tokenizers,
 * indexes): strictly, so that a key given twice is refused rather than one of its two values read
 * in silence, and with a parse error told as one sentence with its line and column.
 */
public final class Json {
    private static final JsonMapper STRICT = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private Json() {}

    /** The file's JSON, or one sentence naming the file and what is wrong. */
    public static JsonNode read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new JlensException(file + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
        return parse(text, file.toString());
    }

    public static JsonNode parse(String text, String source) {
        try {
            JsonNode node = strictTree(text);
            if (node == null || node.isMissingNode()) throw new JlensException(source + ": is empty, not JSON.");
            return node;
        } catch (JsonProcessingException e) {
            throw new JlensException(source + ": is not valid JSON (" + describe(e) + ").", e);
        }
    }

    /** For a caller that words the error itself (with {@link #describe}): a duplicate key is an error. */
    public static JsonNode strictTree(String text) throws JsonProcessingException {
        return STRICT.readTree(text);
    }

    /**
     * What is wrong and where, in jlens's words (Jackson's echo the text and name Java types):
     * "the key 'n_layer' appears twice", "it ends early", "malformed at line 3, column 14".
     */
    public static String describe(JsonProcessingException e) {
        String reason = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
        if (reason.startsWith("Duplicate field '") && reason.lastIndexOf('\'') > "Duplicate field '".length()) {
            return "the key " + JlensException.quote(reason.substring("Duplicate field '".length(), reason.lastIndexOf('\''))) + " appears twice";
        }
        if (reason.startsWith("Unexpected end-of-input")) return "it ends early";
        JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? "malformed" : "malformed at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }
}
