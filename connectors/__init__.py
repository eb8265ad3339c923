"""Channel connectors: payload <-> Utterance/Reply, and their transport details.

    from connectors import ConnectorConfig, mount_connectors
    mount_connectors(app, ConnectorConfig.from_env())   # create_app does this

| module | what |
|---|---|
| `kakao` | KakaoTalk Open Builder skill payloads: parse, render within Kakao's limits |
| `kakao_skill` | the skill server's transport: secret, time budget, `useCallback` and callback POST |
| `rasa` | Rasa REST/callback/socket.io payloads: parse, render |
| `rasa_socketio` | the socket.io server (python-socketio, ASGI) |
| `mobile`, `device_store` | mobile apps: devices, rich messages, SSE and WebSocket streams, push when away |
| `car` | in-vehicle voice: n-best and vehicle state in, speech/display/directives out, a voice WebSocket |
| `bluetooth` | the edge bridge for Bluetooth devices: RFCOMM/BLE/socket-pair transports, HFP, reply frames |
| `webhooks`, `webhook_store` | signed outbound webhooks, deliveries kept in the store |
| `outbound` | POSTs with retries for callbacks |
| `hub` | what the channels share: assistant, HTTP client, webhooks, background tasks |
| `routes` | the one module that turns connectors into HTTP routes; serves `/chat` (`web/`) |
| `payload`, `text`, `config`, `errors` | payload validation, text fitting, settings, errors |
"""

from connectors.config import ConnectorConfig
from connectors.errors import ConnectorError, DeliveryError, PayloadError, Unauthorized
from connectors.routes import mount_connectors
from connectors.webhooks import sign, verify_signature

__all__ = [
    "ConnectorConfig",
    "ConnectorError",
    "DeliveryError",
    "PayloadError",
    "Unauthorized",
    "mount_connectors",
    "sign",
    "verify_signature",
]
