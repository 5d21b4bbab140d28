COPY depends_on (version_id, entity_id, version_range, marker, extra,
marker_evaluation_result) FROM STDIN BINARY
