package dev.jlens.cli;

import dev.jlens.engine.JlensException;
import dev.jlens.models.hub.ModelLocator;
import dev.jlens.models.loading.LoadedModel;
import dev.jlens.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jlens tokenize}: the ids of a text, as one JSON array on stdout and nothing else. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Prints the token ids of a text as one JSON array, BOS first as TransformerLens's to_tokens puts it.")
public final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "M",
            description = "a model directory, or one holding only tokenizer files (tokenizer.json, tokenizer_config.json); "
                    + "a shipped model; or a TransformerLens name or Hugging Face id")
    String model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "T", description = "the text") String text;
        @Option(names = "--file", paramLabel = "F", description = "a UTF-8 text file") Path file;
    }

    @Option(names = "--no-bos", description = "leave out the BOS token") boolean noBos;

    @Override
    public Integer call() {
        if (model.isBlank()) throw new JlensException("--model is empty; name a model directory, a shipped model or a Hugging Face name.");
        String text = input.text != null ? input.text : read(input.file);
        Path dir;
        try (DownloadProgress progress = new DownloadProgress()) {
            dir = ModelLocator.locate(model, progress);
        }
        Tokenizer tokenizer = LoadedModel.tokenizerOf(dir);
        StringJoiner json = new StringJoiner(",", "[", "]");
        for (int id : tokenizer.toTokens(text, !noBos)) json.add(Integer.toString(id));
        System.out.println(json);
        return 0;
    }

    private static String read(Path file) {
        if (!Files.isRegularFile(file)) throw new JlensException("--file " + file + ": no such file.");
        try {
            byte[] bytes = Files.readAllBytes(file);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new JlensException("--file " + file + ": is not UTF-8 text.", e);
        } catch (IOException e) {
            throw new JlensException("--file " + file + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
    }
}
