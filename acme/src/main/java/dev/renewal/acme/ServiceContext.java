package dev.renewal.acme;

import dev.renewal.config.ConfigException;
import dev.renewal.config.Settings;
import dev.renewal.runtime.PipelineContext;
import dev.renewal.serde.AvroSerdes;
import dev.renewal.topics.Topics;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each service of the pipeline is built from: the {@link PipelineContext} (Kafka, registry,
 * topics) and the CA side (the profiles, the account store, the sessions). Every problem of both is
 * reported at once.
 *
 * <p>Keys: those of {@link PipelineContext}, {@code ca.profiles} and {@code ca.<name>.*}, {@code
 * acme.key.dir}.
 */
public record ServiceContext(
    PipelineContext pipeline, CaProfiles profiles, AccountStore accounts, AcmeSessions sessions) {

  /** Defaults of the shared keys, Kafka's and the CA's. */
  public static final Map<String, String> DEFAULTS = defaults();

  private static Map<String, String> defaults() {
    Map<String, String> all = new HashMap<>(PipelineContext.DEFAULTS);
    all.put("acme.key.dir", "keys");
    return Map.copyOf(all);
  }

  public static ServiceContext load(Settings raw) {
    Settings settings = raw.withDefaults(DEFAULTS);
    List<String> problems = new ArrayList<>();
    PipelineContext pipeline = PipelineContext.load(settings, problems);
    Settings.Reader r = settings.reader();
    Path keyDir = r.path("acme.key.dir");
    problems.addAll(r.problems());
    CaProfiles profiles = PipelineContext.collect(problems, () -> CaProfiles.from(settings));
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new ServiceContext(pipeline, profiles, new AccountStore(keyDir), new AcmeSessions());
  }

  public Settings settings() {
    return pipeline.settings();
  }

  public Map<String, Object> kafka() {
    return pipeline.kafka();
  }

  /** {@link PipelineContext#groupMember}. */
  public Map<String, Object> groupMember(String member) {
    return pipeline.groupMember(member);
  }

  public AvroSerdes serdes() {
    return pipeline.serdes();
  }

  public Topics topics() {
    return pipeline.topics();
  }
}
