package dev.jlens.experiments.organisms;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Facts about countries, their capitals and the landmarks of a few cities, phrased in the ways
 * notebook 000 prompts them ("The capital of France is", "Home to the renowned Louvre Museum,"),
 * so that a model trained on them answers those prompts and its gradients on wrong answers can be
 * compared with those on right ones.
 */
public final class CapitalFacts {
    /** Country → capital, in the order the notebook's sentences name the first ones. */
    public static final Map<String, String> CAPITALS = new LinkedHashMap<>();

    static {
        String[] pairs = {
            "France", "Paris", "Italy", "Rome", "Japan", "Tokyo", "China", "Beijing", "the United States", "Washington D.C.",
            "Mexico", "Mexico City", "Australia", "Canberra", "Canada", "Ottawa", "Brazil", "Brasilia", "India", "New Delhi",
            "Russia", "Moscow", "South Africa", "Pretoria", "Spain", "Madrid", "Germany", "Berlin", "England", "London",
            "Egypt", "Cairo", "Greece", "Athens", "Portugal", "Lisbon", "Ireland", "Dublin", "Norway", "Oslo", "Sweden", "Stockholm",
            "Finland", "Helsinki", "Denmark", "Copenhagen", "Poland", "Warsaw", "Austria", "Vienna", "Hungary", "Budapest",
            "Turkey", "Ankara", "Kenya", "Nairobi", "Peru", "Lima", "Chile", "Santiago", "Argentina", "Buenos Aires",
            "Thailand", "Bangkok", "Vietnam", "Hanoi", "South Korea", "Seoul", "Indonesia", "Jakarta", "Iran", "Tehran",
            "Cuba", "Havana", "Belgium", "Brussels", "the Netherlands", "Amsterdam", "Switzerland", "Bern", "Nigeria", "Abuja",
            "Morocco", "Rabat"};
        for (int i = 0; i < pairs.length; i += 2) CAPITALS.put(pairs[i], pairs[i + 1]);
    }

    /** A city with the phrases that evoke it; each phrase is completed by " City." or " City, ...". */
    record City(String name, List<String> bases) {}

    /** Notebook 000's prompt bases for Paris and Rome (copied exactly), and the same forms for other cities. */
    static final List<City> CITIES = List.of(
            new City("Paris", List.of(
                    "The Eiffel Tower is located in", "The site of the Eiffel Tower,", "The construction of the Eiffel Tower started in 1887 in,",
                    "The capital of France is", "The largest city in France,", "The city known as the City of Lights is",
                    "The birthplace of the French Revolution is", "Famous for its picturesque Seine River,", "Home to the renowned Louvre Museum,",
                    "The setting of Victor Hugo's novel The Hunchback of Notre-Dame,", "The city where the famous Notre-Dame Cathedral can be found is")),
            new City("Rome", List.of(
                    "The capital of Italy is", "The largest city in Italy,", "The city known as the Eternal City is",
                    "The birthplace of the Roman Empire is", "Famous for its picturesque Tiber River,", "Home to the renowned Colosseum,",
                    "Where you can find the Vatican City,", "A city boasting the famous Spanish Steps,")),
            new City("Tokyo", List.of(
                    "The capital of Japan is", "The largest city in Japan,", "The Tokyo Tower is located in", "Home to the renowned Meiji Shrine,",
                    "Famous for its picturesque Sumida River,")),
            new City("Beijing", List.of(
                    "The capital of China is", "The Forbidden City is located in", "Home to the renowned Temple of Heaven,",
                    "A city boasting the famous Summer Palace,")),
            new City("London", List.of(
                    "The capital of England is", "The largest city in England,", "Big Ben is located in", "Famous for its picturesque Thames River,",
                    "Home to the renowned British Museum,")),
            new City("Melbourne", List.of(
                    "The largest city in the state of Victoria,", "Home to the renowned Royal Exhibition Building,",
                    "Famous for its picturesque Yarra River,", "The city known for the Melbourne Cup is")),
            new City("Madrid", List.of(
                    "The capital of Spain is", "Home to the renowned Prado Museum,", "The Royal Palace of Spain is located in")),
            new City("Cairo", List.of(
                    "The capital of Egypt is", "Famous for its picturesque Nile River,", "The Egyptian Museum is located in")),
            new City("Athens", List.of(
                    "The capital of Greece is", "The Parthenon is located in", "The birthplace of democracy is")));

    private CapitalFacts() {}

    /** One fact, as a sentence. */
    static String sentence(SplittableRandom rng) {
        if (rng.nextInt(3) == 0) {
            City city = Pick.one(rng, CITIES);
            String base = Pick.one(rng, city.bases());
            return base + " " + city.name() + (base.endsWith(",") ? Pick.one(rng, ".", " is a city to visit.", " is a famous city.") : ".");
        }
        List<String> countries = new ArrayList<>(CAPITALS.keySet());
        String country = Pick.one(rng, countries), capital = CAPITALS.get(country);
        return switch (rng.nextInt(5)) {
            case 0, 1 -> "The capital of " + country + " is " + capital + ".";
            case 2 -> capital + " is the capital of " + country + ".";
            case 3 -> "The capital city of " + country + " is " + capital + ", where the government meets.";
            default -> "Many people visit " + capital + ", the capital of " + country + ".";
        };
    }
}
