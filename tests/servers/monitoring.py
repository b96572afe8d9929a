"""A local gRPC server that serves Cloud Monitoring's CreateTimeSeries and records the requests."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
from google.cloud import monitoring_v3

METHOD = "/google.monitoring.v3.MetricService/CreateTimeSeries"


class MonitoringRecorder:
    def __init__(self) -> None:
        self.requests: list[monitoring_v3.CreateTimeSeriesRequest] = []
        self.fail_with: grpc.StatusCode | None = None
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.method_handlers_generic_handler(
            "google.monitoring.v3.MetricService",
            {
                "CreateTimeSeries": grpc.unary_unary_rpc_method_handler(
                    self._create,
                    request_deserializer=monitoring_v3.CreateTimeSeriesRequest.deserialize,
                    response_serializer=lambda _: b"",  # google.protobuf.Empty
                )
            },
        )
        self._server.add_generic_rpc_handlers((handler,))
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _create(self, request: monitoring_v3.CreateTimeSeriesRequest, context: Any) -> None:
        self.requests.append(request)
        if self.fail_with is not None:
            context.abort(self.fail_with, "recorder told to fail")

    def series(self) -> list[tuple[str, dict[str, str], float]]:
        out = []
        for request in self.requests:
            for ts in request.time_series:
                point = ts.points[0].value
                value = point.double_value if "double_value" in point else point.int64_value
                out.append((ts.metric.type, dict(ts.metric.labels), float(value)))
        return out

    def start(self) -> MonitoringRecorder:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)


@contextmanager
def running() -> Iterator[MonitoringRecorder]:
    server = MonitoringRecorder().start()
    try:
        yield server
    finally:
        server.stop()
