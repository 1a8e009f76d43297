package dev.jlens.experiments.frenchneuron;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Text samples from a file: a JSON list of strings (as notebook 001 writes them) or one sample per line. */
public final class TextSamples {
    private TextSamples() {}

    public static List<String> read(Path file, String option) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new JlensException(option + " " + file + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
        List<String> samples = new ArrayList<>();
        if (text.stripLeading().startsWith("[")) {
            JsonNode list = Json.parse(text, option + " " + file);
            for (JsonNode item : list) {
                if (!item.isTextual()) throw new JlensException(option + " " + file + ": the JSON list holds a " + item.getNodeType() + ", not only strings.");
                samples.add(item.asText());
            }
        } else {
            for (String line : text.split("\n")) if (!line.isBlank()) samples.add(line);
        }
        if (samples.isEmpty()) throw new JlensException(option + " " + file + ": holds no samples.");
        return samples;
    }
}
