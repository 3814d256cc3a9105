package dev.renewal.topics;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Streams application does with a record it cannot decode: it writes the record, byte for
 * byte with the reason and where it came from ({@link DeadLetter}), to the dead-letter topic named
 * by {@value #TOPIC}, and goes on with the next record. Kafka Streams' default ({@code
 * LogAndFailExceptionHandler}) stops the client, and it stops again at the same offset after every
 * restart: one foreign record would end the application for good.
 *
 * <p>Set as {@code deserialization.exception.handler}; the dead-letter record is written by the
 * application's own producer, inside its transaction under exactly-once.
 */
public final class DeadLetteringDeserializationHandler implements DeserializationExceptionHandler {
  private static final Logger LOGGER =
      LoggerFactory.getLogger(DeadLetteringDeserializationHandler.class);

  /** The config key of the dead-letter topic's name. */
  public static final String TOPIC = "renewal.dlq.topic";

  /** The config key of the service named in the dead-letter record's headers. */
  public static final String SERVICE = "renewal.dlq.service";

  private String topic;
  private String service;

  @Override
  public void configure(Map<String, ?> configs) {
    Object t = configs.get(TOPIC);
    if (t == null) {
      throw new IllegalArgumentException(TOPIC + " is required");
    }
    topic = t.toString();
    service = String.valueOf(configs.get(SERVICE));
  }

  @Override
  public Response handleError(
      ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
    String reason = "undecodable: " + exception.getMessage();
    LOGGER.warn(
        "undecodable record dead-lettered, going on: topic={} partition={} offset={} dlq={}"
            + " error={}",
        record.topic(),
        record.partition(),
        record.offset(),
        topic,
        exception.getClass().getSimpleName());
    return Response.resume(List.of(DeadLetter.of(record, topic, reason, exception, service)));
  }
}
