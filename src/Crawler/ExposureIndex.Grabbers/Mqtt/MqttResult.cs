namespace ExposureIndex.Grabbers.Mqtt;

/// <summary>A broker's CONNACK (MQTT 3.1.1 §3.2; an MQTT 5 broker may answer with a longer one, §3.2 of MQTT 5.0).</summary>
/// <param name="ReturnCode">Connect return code (3.1.1) or reason code (5.0).</param>
/// <param name="SessionPresent">The session present flag (§3.2.2.2).</param>
/// <param name="RemainingLength">The variable header length: 2 in 3.1.1, more when MQTT 5 properties follow.</param>
internal sealed record MqttResult(int ReturnCode, bool SessionPresent, int RemainingLength)
{
    public bool Accepted => ReturnCode == 0;

    /// <summary>The return code's meaning (§3.2.2.3), or the MQTT 5 reason code's (5.0 §3.2.2.2) for codes 0x80 and up.</summary>
    public string CodeName => ReturnCode switch
    {
        0 => "accepted",
        1 => "unacceptable protocol version",
        2 => "identifier rejected",
        3 => "server unavailable",
        4 => "bad user name or password",
        5 => "not authorized",
        0x80 => "unspecified error",
        0x81 => "malformed packet",
        0x82 => "protocol error",
        0x84 => "unsupported protocol version",
        0x85 => "client identifier not valid",
        0x86 => "bad user name or password",
        0x87 => "not authorized",
        0x88 => "server unavailable",
        0x89 => "server busy",
        0x8A => "banned",
        _ => "unknown",
    };
}
