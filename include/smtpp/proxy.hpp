/// \file
/// smtpp: the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a
/// TCP proxy or load balancer puts in front of a connection to tell the server who the client
/// is: a reader for the receiving side and writers for the sending side.
///
/// The header comes first on the connection, before any SMTP byte. proxy_reader takes the
/// connection's first octets in pieces of any size (split-invariant: the same result whatever
/// the split, byte by byte included) and says need_more_data, ok (the header is complete: the
/// octets after `consumed` are the SMTP session's) or why the octets are not a valid header.
/// parse_proxy_header() does the same over one buffer (a UDP datagram, a peeked segment).
/// The writers append a v1 line or a v2 header to a buffer of any type with
/// `append(const char*, std::size_t)`. Nothing allocates or throws.
///
/// ```
///   smtpp::proxy_reader reader;                  // one per connection, before the session
///   const smtpp::proxy_result r = reader.read(bytes);
///   if (r.error == smtpp::errc::need_more_data) return;           // all taken; read again
///   if (r.error != smtpp::errc::ok) return close_connection();    // proxy-protocol 2.1, 2.2
///   if (r.header.has_addresses()) client = r.header.source;       // else the socket's peer
///   session.receive(bytes.substr(r.consumed));                    // the SMTP octets
/// ```
///
/// A v1 header is recognised by its first octets `PROXY ` and a v2 header by its 12-octet
/// signature (proxy-protocol 2.2); any other octet is errc::proxy_not_header as soon as it
/// arrives, so a server that requires the header closes at once and never reads SMTP commands
/// as a header nor a header as commands. The receiver must be configured to expect the header
/// and must never guess (proxy-protocol 2, 5): reading it is the caller's decision per
/// listener, and only from trusted proxies.
///
/// Strict grammar and the choices the text leaves open:
///   - v1 (proxy-protocol 2.1): `PROXY` SP (`TCP4` / `TCP6`) SP src SP dst SP sport SP dport
///     CRLF, or `PROXY UNKNOWN` [SP anything but CR and LF] CRLF; single spaces; upper-case
///     keywords; IPv4 as four decimal octets, IPv6 as RFC 4291 text (1-4 hex digits a group,
///     either case, one `::`, exactly 128 bits; a trailing dotted IPv4 part is accepted because
///     HAProxy writes IPv4-mapped addresses that way, with inet_ntop()); decimal numbers
///     without leading zeros; the family matches the address form. The CRLF must come within
///     107 octets (errc::proxy_header_too_long otherwise), and a bare CR or LF is
///     errc::proxy_bad_v1_line. The `::` is not required to compress the longest zero run.
///   - v2 (proxy-protocol 2.2): the version nibble must be 2 and the command LOCAL or PROXY.
///     LOCAL: the block after the 16 fixed octets is skipped unread, family included, as 2.2
///     says ("discard the protocol block including the family"); the header reports no
///     addresses and no TLVs. PROXY: family 0-3 and transport 0-2 (else proxy_bad_family);
///     when either is UNSPEC both are reported unspec and the block is skipped ("the receiver
///     should ignore address information", whose size it cannot know). Otherwise the block
///     must hold the family's addresses (12, 36 or 216 octets; else proxy_short_addresses,
///     known from the length field before the block arrives) and what follows is TLVs: each
///     must fit the declared length exactly; a CRC32C TLV must be 4 octets, appear once and
///     match (proxy-protocol 2.2.3, else proxy_bad_checksum); a UNIQUE_ID TLV is at most 128
///     octets (2.2.5); an SSL TLV holds its 5 fixed octets and well-formed sub-TLVs (2.2.6).
///     Other TLV types, the reserved ranges of 2.2.8 included, are not interpreted.
///   - Size: a v2 header is at most `MaxHeader` octets (16 + length), errc::proxy_header_too_long
///     as soon as the length field says more. proxy_reader keeps 536: both formats "fit in the
///     smallest TCP segment that any TCP/IP host is required to support (576 - 40 = 536
///     bytes)" (proxy-protocol 2), which leaves 304 to 484 octets of TLVs after the addresses.
///     A sender that adds client certificates (2.2.6, PP2_SUBTYPE_SSL_CLIENT_CERT) needs a
///     larger basic_proxy_reader<N>.
///
/// Lifetime: the views in a header (UNIX paths, TLVs) point into the input given to
/// parse_proxy_header(), or into the proxy_reader's own buffer, where they stay valid until its
/// next read() or reset() and while the reader is neither moved nor destroyed.
#ifndef SMTPP_PROXY_HPP
#define SMTPP_PROXY_HPP

#include <smtpp/detail/crc32c.hpp>
#include <smtpp/detail/ip_text.hpp>
#include <smtpp/detail/number.hpp>
#include <smtpp/error.hpp>
#include <smtpp/macros.hpp>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

SMTPP_NAMESPACE_BEGIN

/// The longest v1 line a receiver must read, CRLF included (proxy-protocol 2.1: "PROXY
/// UNKNOWN" with two full IPv6 addresses and ports).
inline constexpr std::size_t proxy_v1_max_line = 107;
/// The fixed part of a v2 header: signature, version and command, family, length
/// (proxy-protocol 2.2).
inline constexpr std::size_t proxy_v2_fixed_size = 16;
/// The longest header proxy_reader accepts: the 536 octets of proxy-protocol 2 (the smallest
/// TCP segment every host must take); see the top of this header.
inline constexpr std::size_t proxy_default_max_header = 536;
/// The octets each side of an AF_UNIX address takes in a v2 header (proxy-protocol 2.2).
inline constexpr std::size_t proxy_unix_path_size = 108;

/// Which format the header was written in.
enum class proxy_version : std::uint8_t {
    v1 = 1, ///< the text line (proxy-protocol 2.1)
    v2 = 2, ///< the binary header (proxy-protocol 2.2)
};

/// What the proxy says about the connection (proxy-protocol 2.2; a v1 line is always proxy).
enum class proxy_command : std::uint8_t {
    local = 0, ///< the proxy opened it for itself (health check): use the real endpoints
    proxy = 1, ///< relayed on behalf of the client the header names
};

/// The original connection's address family (proxy-protocol 2.2).
enum class proxy_family : std::uint8_t {
    unspec = 0,      ///< unknown or not told (v1 UNKNOWN, v2 UNSPEC, LOCAL): no addresses
    inet = 1,        ///< IPv4 (v1 TCP4)
    inet6 = 2,       ///< IPv6 (v1 TCP6)
    unix_socket = 3, ///< AF_UNIX: paths, no ports
};

/// The original connection's transport (proxy-protocol 2.2).
enum class proxy_transport : std::uint8_t {
    unspec = 0, ///< unknown or not told
    stream = 1, ///< SOCK_STREAM: TCP, UNIX stream (every v1 line with addresses)
    dgram = 2,  ///< SOCK_DGRAM: UDP, UNIX datagram
};

/// The registered v2 TLV types (proxy-protocol 2.2); other values are possible (0xE0-0xEF are
/// application-specific, 0xF0-0xF7 experimental, 0xF8-0xFF reserved: 2.2.8).
enum class proxy_tlv_type : std::uint8_t {
    alpn = 0x01,            ///< the negotiated ALPN protocol (2.2.1)
    authority = 0x02,       ///< the host name the client asked for, e.g. TLS SNI (2.2.2)
    crc32c = 0x03,          ///< CRC32C of the header (2.2.3); the reader verifies it
    noop = 0x04,            ///< padding, ignored (2.2.4)
    unique_id = 0x05,       ///< an opaque connection id of up to 128 octets (2.2.5)
    ssl = 0x20,             ///< TLS details with sub-TLVs (2.2.6); see proxy_ssl
    ssl_version = 0x21,     ///< SSL sub-TLV: the TLS version as text, e.g. "TLSv1.3"
    ssl_cn = 0x22,          ///< SSL sub-TLV: the client certificate's Common Name (UTF-8)
    ssl_cipher = 0x23,      ///< SSL sub-TLV: the cipher name
    ssl_sig_alg = 0x24,     ///< SSL sub-TLV: the certificate's signature algorithm
    ssl_key_alg = 0x25,     ///< SSL sub-TLV: the certificate's key algorithm
    ssl_group = 0x26,       ///< SSL sub-TLV: the key exchange group
    ssl_sig_scheme = 0x27,  ///< SSL sub-TLV: the handshake signature scheme
    ssl_client_cert = 0x28, ///< SSL sub-TLV: the client certificate, DER
    netns = 0x30,           ///< the network namespace's name (2.2.7)
};

/// proxy_ssl::client bit: the client connected over TLS (proxy-protocol 2.2.6).
inline constexpr std::uint8_t proxy_ssl_client_ssl = 0x01;
/// proxy_ssl::client bit: the client presented a certificate on this connection.
inline constexpr std::uint8_t proxy_ssl_client_cert_conn = 0x02;
/// proxy_ssl::client bit: the client presented a certificate at least once in its TLS session.
inline constexpr std::uint8_t proxy_ssl_client_cert_sess = 0x04;

/// One end of the original connection. Which fields count depends on the header's family.
struct proxy_address {
    std::uint8_t ip[16] = {};   ///< network byte order: inet ip[0..3], inet6 all 16
    std::uint16_t port = 0;     ///< inet and inet6: the port (host byte order)
    std::string_view unix_path; ///< unix_socket: the 108 octets less trailing NULs (a Linux
                                ///< abstract name starts with NUL); see the lifetime rule
};

/// One TLV of a v2 header: its type and a view of its value.
struct proxy_tlv {
    proxy_tlv_type type = proxy_tlv_type::noop; ///< the type octet
    std::string_view value;                     ///< the value octets, 0 to 65535 of them
};

namespace detail {

[[nodiscard]] constexpr std::uint8_t octet_at(std::string_view s, std::size_t i) noexcept {
    return static_cast<std::uint8_t>(s[i]);
}

[[nodiscard]] constexpr std::uint16_t load_be16(std::string_view s, std::size_t i) noexcept {
    return static_cast<std::uint16_t>(octet_at(s, i) << 8 | octet_at(s, i + 1));
}

[[nodiscard]] constexpr std::uint32_t load_be32(std::string_view s, std::size_t i) noexcept {
    return static_cast<std::uint32_t>(load_be16(s, i)) << 16 | load_be16(s, i + 2);
}

// Takes the TLV at the front of `list` (type, 2-octet length, value: proxy-protocol 2.2);
// false, `list` unchanged, when the list is shorter than the TLV says.
[[nodiscard]] constexpr bool take_tlv(std::string_view& list, proxy_tlv& tlv) noexcept {
    if (list.size() < 3) return false;
    const std::size_t length = load_be16(list, 1);
    if (length > list.size() - 3) return false;
    tlv = {static_cast<proxy_tlv_type>(octet_at(list, 0)), list.substr(3, length)};
    list.remove_prefix(3 + length);
    return true;
}

} // namespace detail

/// The TLVs of a v2 header, as the encoded octets, walked on demand. The reader only hands out
/// lists it has checked; a list built from other octets is iterated up to its first TLV that
/// does not fit (well_formed() tells).
class proxy_tlv_list {
public:
    /// Walks the TLVs in order; each is a proxy_tlv with a view into the list's octets.
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = proxy_tlv;
        using difference_type = std::ptrdiff_t;
        using pointer = const proxy_tlv*;
        using reference = const proxy_tlv&;

        constexpr iterator() noexcept = default;
        /// At the first TLV of `encoded`; an empty view is the end.
        constexpr explicit iterator(std::string_view encoded) noexcept : rest_(encoded) { load(); }
        /// The current TLV.
        [[nodiscard]] constexpr const proxy_tlv& operator*() const noexcept { return tlv_; }
        /// The current TLV's members.
        [[nodiscard]] constexpr const proxy_tlv* operator->() const noexcept { return &tlv_; }
        /// Moves to the next TLV.
        constexpr iterator& operator++() noexcept {
            rest_.remove_prefix(3 + tlv_.value.size());
            load();
            return *this;
        }
        /// Moves to the next TLV; returns the iterator as it was.
        constexpr iterator operator++(int) noexcept {
            iterator before = *this;
            ++*this;
            return before;
        }
        /// True when both are at the same TLV of the same list.
        [[nodiscard]] friend constexpr bool operator==(const iterator& a,
                                                       const iterator& b) noexcept {
            return a.rest_.size() == b.rest_.size();
        }
        /// True when they are at different TLVs.
        [[nodiscard]] friend constexpr bool operator!=(const iterator& a,
                                                       const iterator& b) noexcept {
            return !(a == b);
        }

    private:
        constexpr void load() noexcept {
            std::string_view probe = rest_;
            if (!detail::take_tlv(probe, tlv_)) rest_ = {};
        }

        std::string_view rest_;
        proxy_tlv tlv_;
    };

    constexpr proxy_tlv_list() noexcept = default;
    /// The TLVs encoded in `encoded` (type, 2-octet big-endian length, value, repeated).
    constexpr explicit proxy_tlv_list(std::string_view encoded) noexcept : encoded_(encoded) {}

    /// The encoded octets, as they were on the wire.
    [[nodiscard]] constexpr std::string_view encoded() const noexcept { return encoded_; }
    /// True when there is no TLV.
    [[nodiscard]] constexpr bool empty() const noexcept { return encoded_.empty(); }
    /// True when the octets are whole TLVs, each within the octets (always, for a list the
    /// reader handed out).
    [[nodiscard]] constexpr bool well_formed() const noexcept {
        std::string_view rest = encoded_;
        proxy_tlv tlv;
        while (!rest.empty()) {
            if (!detail::take_tlv(rest, tlv)) return false;
        }
        return true;
    }
    /// At the first TLV.
    [[nodiscard]] constexpr iterator begin() const noexcept { return iterator(encoded_); }
    /// Past the last TLV.
    [[nodiscard]] constexpr iterator end() const noexcept { return iterator(); }

    /// True when a TLV of this type is present.
    [[nodiscard]] constexpr bool contains(proxy_tlv_type type) const noexcept {
        for (const proxy_tlv& tlv : *this) {
            if (tlv.type == type) return true;
        }
        return false;
    }
    /// The value of the first TLV of this type; empty when there is none (contains() tells
    /// an empty value from none).
    [[nodiscard]] constexpr std::string_view find(proxy_tlv_type type) const noexcept {
        for (const proxy_tlv& tlv : *this) {
            if (tlv.type == type) return tlv.value;
        }
        return {};
    }

private:
    std::string_view encoded_;
};

/// The SSL TLV of a v2 header (proxy-protocol 2.2.6): how the client reached the proxy.
struct proxy_ssl {
    bool present = false;     ///< the header has an SSL TLV; the fields below are zero if not
    std::uint8_t client = 0;  ///< proxy_ssl_client_* bits
    std::uint32_t verify = 0; ///< 0 when the client's certificate was verified, else non-zero
    proxy_tlv_list sub_tlvs;  ///< the sub-TLVs (types ssl_version to ssl_client_cert)

    /// The TLS version, e.g. "TLSv1.3" (sent when client has proxy_ssl_client_ssl).
    [[nodiscard]] constexpr std::string_view version() const noexcept {
        return sub_tlvs.find(proxy_tlv_type::ssl_version);
    }
    /// The Common Name of the client certificate's subject (UTF-8).
    [[nodiscard]] constexpr std::string_view cn() const noexcept {
        return sub_tlvs.find(proxy_tlv_type::ssl_cn);
    }
    /// The cipher, e.g. "ECDHE-RSA-AES128-GCM-SHA256".
    [[nodiscard]] constexpr std::string_view cipher() const noexcept {
        return sub_tlvs.find(proxy_tlv_type::ssl_cipher);
    }
    /// The algorithm that signed the proxy's certificate, e.g. "RSA-SHA256".
    [[nodiscard]] constexpr std::string_view sig_alg() const noexcept {
        return sub_tlvs.find(proxy_tlv_type::ssl_sig_alg);
    }
    /// The algorithm of the proxy certificate's key, e.g. "RSA2048".
    [[nodiscard]] constexpr std::string_view key_alg() const noexcept {
        return sub_tlvs.find(proxy_tlv_type::ssl_key_alg);
    }
};

/// What a PROXY header says: what the reader reports and what the writers take.
struct proxy_header {
    proxy_version version = proxy_version::v2;           ///< the format read (writers ignore it)
    proxy_command command = proxy_command::proxy;        ///< v1 lines are always proxy
    proxy_family family = proxy_family::unspec;          ///< unspec: no addresses
    proxy_transport transport = proxy_transport::unspec; ///< unspec exactly when family is
    proxy_address source;      ///< the client's end of the original connection
    proxy_address destination; ///< the end the client connected to (the proxy's, usually)
    proxy_tlv_list tlvs;       ///< v2 with addresses only: the TLVs after them

    /// True when the header names the client: the connection is to be treated as coming from
    /// `source` to `destination`. False for LOCAL, v1 UNKNOWN and v2 UNSPEC, where the
    /// receiver keeps the real connection's endpoints (proxy-protocol 2.1, 2.2).
    [[nodiscard]] constexpr bool has_addresses() const noexcept {
        return command == proxy_command::proxy && family != proxy_family::unspec;
    }
    /// The ALPN TLV's value (proxy-protocol 2.2.1); empty when absent.
    [[nodiscard]] constexpr std::string_view alpn() const noexcept {
        return tlvs.find(proxy_tlv_type::alpn);
    }
    /// The AUTHORITY TLV's value, the host name the client asked for (2.2.2); empty when absent.
    [[nodiscard]] constexpr std::string_view authority() const noexcept {
        return tlvs.find(proxy_tlv_type::authority);
    }
    /// The UNIQUE_ID TLV's value (2.2.5); empty when absent.
    [[nodiscard]] constexpr std::string_view unique_id() const noexcept {
        return tlvs.find(proxy_tlv_type::unique_id);
    }
    /// The NETNS TLV's value, a network namespace name (2.2.7); empty when absent.
    [[nodiscard]] constexpr std::string_view netns() const noexcept {
        return tlvs.find(proxy_tlv_type::netns);
    }
    /// The SSL TLV (2.2.6), `present` false when absent.
    [[nodiscard]] constexpr proxy_ssl ssl() const noexcept {
        proxy_ssl info;
        for (const proxy_tlv& tlv : tlvs) {
            if (tlv.type != proxy_tlv_type::ssl || tlv.value.size() < 5) continue;
            info.present = true;
            info.client = detail::octet_at(tlv.value, 0);
            info.verify = detail::load_be32(tlv.value, 1);
            info.sub_tlvs = proxy_tlv_list(tlv.value.substr(5));
            break;
        }
        return info;
    }
};

/// An IP address as text, built in place.
struct proxy_ip_text {
    static constexpr std::size_t capacity = 40; ///< the longest IPv6 text (39) and a spare
    char text[capacity] = {}; ///< the address, `length` octets, not NUL-terminated
    std::size_t length = 0;   ///< octets used in `text`

    /// The text as a view into `text`, valid as long as this object.
    [[nodiscard]] constexpr std::string_view view() const noexcept {
        return std::string_view(text, length);
    }
};

/// The address as text: dotted decimal for inet, RFC 5952 text for inet6 (lower-case, the
/// longest zero run as `::`, no dotted IPv4 tail); empty for the other families.
[[nodiscard]] constexpr proxy_ip_text format_proxy_ip(proxy_family family,
                                                      const proxy_address& address) noexcept {
    proxy_ip_text out;
    if (family == proxy_family::inet) out.length = detail::format_ipv4_text(address.ip, out.text);
    if (family == proxy_family::inet6) out.length = detail::format_ipv6_text(address.ip, out.text);
    return out;
}

/// Reads `text` as an address of `family` into `address.ip` (the port is left alone), with the
/// grammar of a v1 line (proxy-protocol 2.1): for inet four decimal octets without leading
/// zeros, for inet6 RFC 4291 text. Errors: invalid_argument (another family, or text that is
/// not such an address); `address` is then unchanged.
[[nodiscard]] constexpr errc parse_proxy_ip(std::string_view text, proxy_family family,
                                            proxy_address& address) noexcept {
    std::uint8_t ip[16] = {};
    bool ok = false;
    if (family == proxy_family::inet) ok = detail::parse_ipv4_text(text, ip);
    if (family == proxy_family::inet6) ok = detail::parse_ipv6_text(text, ip);
    if (!ok) return errc::invalid_argument;
    for (std::size_t i = 0; i < sizeof ip; ++i) address.ip[i] = ip[i];
    return errc::ok;
}

/// What reading a header did.
struct proxy_result {
    /// ok: the header is complete and valid. need_more_data: every octet was taken, read more.
    /// Anything else is the (sticky) error: close the connection (proxy-protocol 2.1, 2.2).
    errc error = errc::need_more_data;
    /// Input octets used: up to the end of the header on ok (the rest is the session's), all
    /// of them on need_more_data, up to the octet that proved the error on an error (so the
    /// sum over a connection's reads is the same however its octets were split).
    std::size_t consumed = 0;
    proxy_header header; ///< ok: the header; its views follow the lifetime rule above
};

namespace detail {

inline constexpr char proxy_v2_signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                                '\n', 'Q',  'U',  'I',  'T',  '\n'};
inline constexpr std::string_view proxy_v1_signature = "PROXY ";

[[nodiscard]] constexpr std::size_t proxy_address_size(proxy_family family) noexcept {
    switch (family) {
    case proxy_family::inet:
        return 12;
    case proxy_family::inet6:
        return 36;
    case proxy_family::unix_socket:
        return 2 * proxy_unix_path_size;
    default:
        return 0;
    }
}

[[nodiscard]] constexpr bool proxy_v2_is_local(std::string_view header) noexcept {
    return (octet_at(header, 12) & 0x0Fu) == 0;
}

[[nodiscard]] constexpr bool proxy_v2_family_valid(std::uint8_t fam) noexcept {
    return (fam >> 4) <= 3 && (fam & 0x0Fu) <= 2;
}

// The family of a valid family octet, unspec when either half is UNSPEC: a receiver falls back
// to UNSPEC for what it cannot use (proxy-protocol 2.2), and an address needs both.
[[nodiscard]] constexpr proxy_family proxy_v2_family(std::uint8_t fam) noexcept {
    if ((fam >> 4) == 0 || (fam & 0x0Fu) == 0) return proxy_family::unspec;
    return static_cast<proxy_family>(fam >> 4);
}

[[nodiscard]] constexpr std::size_t proxy_v2_total(std::string_view header) noexcept {
    return proxy_v2_fixed_size + load_be16(header, 14);
}

// ---- version 1 ----

// Whether the last octet of `rest` (the line after "PROXY ", no CR or LF in it) can still
// start a valid line: a known protocol word, then address and port characters for TCP4/TCP6,
// anything after "UNKNOWN ". Only rejects what parse_proxy_v1 would reject, earlier.
[[nodiscard]] constexpr bool proxy_v1_octet_fits(std::string_view rest) noexcept {
    const std::size_t i = rest.size() - 1;
    const char c = rest[i];
    if (rest[0] == 'U') return i >= 8 || c == std::string_view("UNKNOWN ")[i];
    if (rest[0] != 'T') return false;
    if (i == 3) return c == '4' || c == '6';
    if (i < 5) return c == std::string_view("TCP4 ")[i];
    return is_hex(c) || c == '.' || c == ':' || c == ' ';
}

[[nodiscard]] constexpr bool parse_proxy_v1_address(std::string_view text, proxy_family family,
                                                    proxy_address& address) noexcept {
    return family == proxy_family::inet ? parse_ipv4_text(text, address.ip)
                                        : parse_ipv6_text(text, address.ip);
}

[[nodiscard]] constexpr bool parse_proxy_v1_port(std::string_view text,
                                                 proxy_address& address) noexcept {
    std::uint32_t port = 0;
    if (!parse_plain_decimal(text, 65535, port)) return false;
    address.port = static_cast<std::uint16_t>(port);
    return true;
}

// The four fields after "TCP4 " or "TCP6 ", separated by single spaces.
[[nodiscard]] constexpr bool parse_proxy_v1_fields(std::string_view fields,
                                                   proxy_header& h) noexcept {
    std::string_view field[4] = {};
    for (int k = 0; k < 4; ++k) {
        const std::size_t space = k < 3 ? fields.find(' ') : fields.size();
        if (space == std::string_view::npos) return false;
        field[k] = fields.substr(0, space);
        fields.remove_prefix(k < 3 ? space + 1 : space);
    }
    return parse_proxy_v1_address(field[0], h.family, h.source) &&
           parse_proxy_v1_address(field[1], h.family, h.destination) &&
           parse_proxy_v1_port(field[2], h.source) && parse_proxy_v1_port(field[3], h.destination);
}

// A whole v1 line, CRLF included (proxy-protocol 2.1).
[[nodiscard]] constexpr errc parse_proxy_v1(std::string_view line, proxy_header& out) noexcept {
    const std::string_view rest = line.substr(6, line.size() - 8);
    proxy_header h;
    h.version = proxy_version::v1;
    if (rest == "UNKNOWN" || rest.substr(0, 8) == "UNKNOWN ") {
        out = h; // "the receiver must ignore anything presented before the CRLF"
        return errc::ok;
    }
    if (rest.substr(0, 5) == "TCP4 ") h.family = proxy_family::inet;
    if (rest.substr(0, 5) == "TCP6 ") h.family = proxy_family::inet6;
    if (h.family == proxy_family::unspec || !parse_proxy_v1_fields(rest.substr(5), h))
        return errc::proxy_bad_v1_line;
    h.transport = proxy_transport::stream;
    out = h;
    return errc::ok;
}

// Decides on the last octet of `line`, whose earlier octets were a valid incomplete start.
[[nodiscard]] constexpr errc proxy_step_v1(std::string_view line, proxy_header& out) noexcept {
    const std::size_t i = line.size() - 1;
    const char c = line[i];
    if (i < proxy_v1_signature.size())
        return c == proxy_v1_signature[i] ? errc::need_more_data : errc::proxy_not_header;
    if (line[i - 1] == '\r') return c == '\n' ? parse_proxy_v1(line, out) : errc::proxy_bad_v1_line;
    if (c == '\n') return errc::proxy_bad_v1_line; // only CRLF ends the line
    if (line.size() >= proxy_v1_max_line) return errc::proxy_header_too_long;
    if (c == '\r') return errc::need_more_data;
    return proxy_v1_octet_fits(line.substr(6)) ? errc::need_more_data : errc::proxy_bad_v1_line;
}

// ---- version 2 ----

constexpr void decode_proxy_v2_addresses(std::string_view block, proxy_header& h) noexcept {
    if (h.family == proxy_family::unix_socket) {
        const auto path = [](std::string_view raw) {
            while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
            return raw;
        };
        h.source.unix_path = path(block.substr(0, proxy_unix_path_size));
        h.destination.unix_path = path(block.substr(proxy_unix_path_size, proxy_unix_path_size));
        return;
    }
    const std::size_t width = h.family == proxy_family::inet ? 4 : 16;
    for (std::size_t i = 0; i < width; ++i) {
        h.source.ip[i] = octet_at(block, i);
        h.destination.ip[i] = octet_at(block, width + i);
    }
    h.source.port = load_be16(block, 2 * width);
    h.destination.port = load_be16(block, 2 * width + 2);
}

[[nodiscard]] constexpr bool proxy_tlvs_fit(std::string_view list) noexcept {
    return proxy_tlv_list(list).well_formed();
}

// The rules proxy-protocol 2.2.x gives for the value of a known type.
[[nodiscard]] constexpr bool proxy_tlv_value_valid(const proxy_tlv& tlv) noexcept {
    switch (tlv.type) {
    case proxy_tlv_type::crc32c:
        return tlv.value.size() == 4;
    case proxy_tlv_type::unique_id:
        return tlv.value.size() <= 128;
    case proxy_tlv_type::ssl:
        return tlv.value.size() >= 5 && proxy_tlvs_fit(tlv.value.substr(5));
    default:
        return true;
    }
}

// The CRC32C of `header` with the 4 octets at `at` taken as zeros (proxy-protocol 2.2.3).
[[nodiscard]] constexpr std::uint32_t proxy_crc32c(std::string_view header,
                                                   std::size_t at) noexcept {
    crc32c_state crc;
    crc.update(header.substr(0, at));
    crc.update(std::string_view("\0\0\0\0", 4));
    crc.update(header.substr(at + 4));
    return crc.value();
}

// The TLVs of `header` from `start` to its end.
[[nodiscard]] constexpr errc check_proxy_tlvs(std::string_view header, std::size_t start) noexcept {
    std::string_view rest = header.substr(start);
    std::size_t crc_at = 0;
    proxy_tlv tlv;
    while (!rest.empty()) {
        const std::size_t at = header.size() - rest.size();
        if (!take_tlv(rest, tlv) || !proxy_tlv_value_valid(tlv)) return errc::proxy_bad_tlv;
        if (tlv.type != proxy_tlv_type::crc32c) continue;
        if (crc_at != 0) return errc::proxy_bad_tlv; // which of two would the header mean?
        crc_at = at + 3;
    }
    if (crc_at != 0 && proxy_crc32c(header, crc_at) != load_be32(header, crc_at))
        return errc::proxy_bad_checksum;
    return errc::ok;
}

// A whole v2 header, 16 + length octets, whose fixed part was checked (proxy-protocol 2.2).
[[nodiscard]] constexpr errc parse_proxy_v2(std::string_view header, proxy_header& out) noexcept {
    proxy_header h;
    h.version = proxy_version::v2;
    if (proxy_v2_is_local(header)) {
        h.command = proxy_command::local; // the block, family included, is discarded
        out = h;
        return errc::ok;
    }
    h.family = proxy_v2_family(octet_at(header, 13));
    if (h.family != proxy_family::unspec) {
        h.transport = static_cast<proxy_transport>(octet_at(header, 13) & 0x0Fu);
        const std::size_t tlv_start = proxy_v2_fixed_size + proxy_address_size(h.family);
        if (header.size() < tlv_start) return errc::proxy_short_addresses;
        decode_proxy_v2_addresses(header.substr(proxy_v2_fixed_size), h);
        if (const errc e = check_proxy_tlvs(header, tlv_start); e != errc::ok) return e;
        h.tlvs = proxy_tlv_list(header.substr(tlv_start));
    }
    out = h;
    return errc::ok;
}

// What the length field, known at the 16th octet, already tells: whether the header fits
// and whether the block can hold the family's addresses.
[[nodiscard]] constexpr errc check_proxy_v2_length(std::string_view fixed,
                                                   std::size_t max_header) noexcept {
    const std::size_t total = proxy_v2_total(fixed);
    if (total > max_header) return errc::proxy_header_too_long;
    if (proxy_v2_is_local(fixed)) return errc::ok;
    const proxy_family family = proxy_v2_family(octet_at(fixed, 13));
    return total < proxy_v2_fixed_size + proxy_address_size(family) ? errc::proxy_short_addresses
                                                                    : errc::ok;
}

// Decides on the last octet of `header`, whose earlier octets were a valid incomplete start.
[[nodiscard]] constexpr errc proxy_step_v2(std::string_view header, std::size_t max_header,
                                           proxy_header& out) noexcept {
    const std::size_t i = header.size() - 1;
    const std::uint8_t c = octet_at(header, i);
    if (i < sizeof proxy_v2_signature)
        return header[i] == proxy_v2_signature[i] ? errc::need_more_data : errc::proxy_not_header;
    if (i == 12) {
        if ((c >> 4) != 2) return errc::proxy_bad_version;
        return (c & 0x0Fu) <= 1 ? errc::need_more_data : errc::proxy_bad_command;
    }
    if (i == 13) {
        const bool valid = proxy_v2_is_local(header) || proxy_v2_family_valid(c);
        return valid ? errc::need_more_data : errc::proxy_bad_family;
    }
    if (i == 14) return errc::need_more_data;
    if (i == 15) {
        if (const errc e = check_proxy_v2_length(header, max_header); e != errc::ok) return e;
    }
    return header.size() < proxy_v2_total(header) ? errc::need_more_data
                                                  : parse_proxy_v2(header, out);
}

// ---- both ----

// Decides on the last octet of `so_far`, whose earlier octets were a valid incomplete start;
// fills `out` when the header is complete.
[[nodiscard]] constexpr errc proxy_step(std::string_view so_far, std::size_t max_header,
                                        proxy_header& out) noexcept {
    if (so_far[0] == 'P') return proxy_step_v1(so_far, out);
    if (so_far[0] == '\r') return proxy_step_v2(so_far, max_header, out);
    return errc::proxy_not_header;
}

// How many octets the header may take before proxy_step must look again: one at a time, but
// the rest of a v2 header at once once its length is known.
[[nodiscard]] constexpr std::size_t proxy_stride(std::string_view so_far) noexcept {
    if (so_far.size() < proxy_v2_fixed_size || so_far[0] != '\r') return 1;
    return proxy_v2_total(so_far) - so_far.size();
}

} // namespace detail

/// Reads a PROXY header from the start of `input`, which holds the connection's first octets
/// (or one UDP datagram: proxy-protocol 2 requires a header per datagram). The result is the
/// one proxy_reader gives for the same octets: ok with `consumed` the header's length,
/// need_more_data (`input` is a valid start of a header), or the error, as early as the
/// octets prove it: proxy_not_header, proxy_bad_v1_line, proxy_header_too_long,
/// proxy_bad_version, proxy_bad_command, proxy_bad_family, proxy_short_addresses,
/// proxy_bad_tlv, proxy_bad_checksum. `max_header` bounds a v2 header (16 + its length
/// field); a v1 line is always bounded by proxy_v1_max_line. The header's views point into
/// `input`.
[[nodiscard]] constexpr proxy_result
parse_proxy_header(std::string_view input,
                   std::size_t max_header = proxy_default_max_header) noexcept {
    proxy_result r;
    std::size_t size = 0;
    while (r.error == errc::need_more_data && size < input.size()) {
        const std::size_t stride = detail::proxy_stride(input.substr(0, size));
        size += stride < input.size() - size ? stride : input.size() - size;
        r.error = detail::proxy_step(input.substr(0, size), max_header, r.header);
    }
    r.consumed = size;
    return r;
}

/// Reads the PROXY header at the start of a connection from octets that come in pieces of any
/// size, into its own buffer of `MaxHeader` octets (no heap); see the top of this header.
/// `MaxHeader` is the longest v2 header accepted (16 + its length field), at least 232 so
/// that every address family fits; a v1 line takes at most proxy_v1_max_line of it.
template <std::size_t MaxHeader>
class basic_proxy_reader {
    static_assert(MaxHeader >= proxy_v2_fixed_size + 2 * proxy_unix_path_size,
                  "a PROXY header with UNIX addresses takes 232 octets");
    static_assert(MaxHeader <= proxy_v2_fixed_size + 0xFFFF, "a v2 header is at most 65551 octets");

public:
    /// The longest header this reader takes.
    static constexpr std::size_t max_header = MaxHeader;

    /// Takes octets from the front of `in` until the header is complete (ok, `consumed` up to
    /// its end: the rest of `in` is the session's), or every octet was taken
    /// (need_more_data), or they proved the header invalid (the errors of
    /// parse_proxy_header(), `consumed` up to the octet that proved it). The outcome, and the
    /// sum of `consumed`, are the same however the octets are split. Once ok or an error,
    /// every call returns it again and takes nothing. The header's views follow the lifetime
    /// rule at the top.
    [[nodiscard]] proxy_result read(std::string_view in) noexcept {
        if (error_ != errc::need_more_data) return {error_, 0, header()};
        proxy_result r;
        std::size_t used = 0;
        while (error_ == errc::need_more_data && used < in.size()) {
            const std::size_t stride = detail::proxy_stride(bytes());
            const std::size_t take = stride < in.size() - used ? stride : in.size() - used;
            for (std::size_t i = 0; i < take; ++i) buffer_[size_ + i] = in[used + i];
            size_ += static_cast<std::uint32_t>(take);
            used += take;
            error_ = detail::proxy_step(bytes(), MaxHeader, r.header);
        }
        r.error = error_;
        r.consumed = used;
        return r;
    }

    /// ok once a valid header was read, need_more_data before, or the error that stopped it.
    [[nodiscard]] errc error() const noexcept { return error_; }
    /// True once a valid header was read.
    [[nodiscard]] bool done() const noexcept { return error_ == errc::ok; }
    /// The header octets taken so far (on an error, up to the octet that proved it), a view
    /// into the reader's buffer: the whole header once done, e.g. to log or relay it.
    [[nodiscard]] std::string_view bytes() const noexcept {
        return std::string_view(buffer_, size_);
    }
    /// The header read, decoded again from bytes() (cheap: no copy, views into the buffer);
    /// a default header until done().
    [[nodiscard]] proxy_header header() const noexcept {
        if (error_ != errc::ok) return {};
        return parse_proxy_header(bytes(), MaxHeader).header;
    }
    /// Forgets everything, for a new connection.
    void reset() noexcept {
        size_ = 0;
        error_ = errc::need_more_data;
    }

private:
    char buffer_[MaxHeader] = {};
    std::uint32_t size_ = 0;
    errc error_ = errc::need_more_data;
};

/// The reader of proxy_default_max_header (536) octets: sizeof about 544 bytes.
using proxy_reader = basic_proxy_reader<proxy_default_max_header>;

// ---- writers ----

/// Appends one TLV (proxy-protocol 2.2) to `out`: the type, the length in two octets, the
/// value. Build a list for proxy_header::tlvs with it (or an SSL TLV's sub-TLVs). Errors:
/// invalid_argument (a value over 65535 octets; nothing appended).
template <class Out>
[[nodiscard]] errc append_proxy_tlv(Out& out, proxy_tlv_type type, std::string_view value) {
    if (value.size() > 0xFFFF) return errc::invalid_argument;
    const char head[3] = {static_cast<char>(type), static_cast<char>(value.size() >> 8),
                          static_cast<char>(value.size() & 0xFFu)};
    out.append(head, 3);
    out.append(value.data(), value.size());
    return errc::ok;
}

/// Appends an SSL TLV (proxy-protocol 2.2.6): the `client` bits (proxy_ssl_client_*), the
/// `verify` result (0: the client certificate was verified) and the encoded `sub_tlvs` (built
/// with append_proxy_tlv: ssl_version, ssl_cn, ...). Errors: invalid_argument (sub-TLVs that
/// are not whole TLVs, or a value over 65535 octets; nothing appended).
template <class Out>
[[nodiscard]] errc append_proxy_ssl_tlv(Out& out, std::uint8_t client, std::uint32_t verify,
                                        std::string_view sub_tlvs) {
    if (sub_tlvs.size() > 0xFFFF - 5 || !proxy_tlv_list(sub_tlvs).well_formed())
        return errc::invalid_argument;
    const std::size_t length = 5 + sub_tlvs.size();
    const char head[8] = {
        static_cast<char>(proxy_tlv_type::ssl), static_cast<char>(length >> 8),
        static_cast<char>(length & 0xFFu),      static_cast<char>(client),
        static_cast<char>(verify >> 24),        static_cast<char>(verify >> 16 & 0xFFu),
        static_cast<char>(verify >> 8 & 0xFFu), static_cast<char>(verify & 0xFFu)};
    out.append(head, 8);
    out.append(sub_tlvs.data(), sub_tlvs.size());
    return errc::ok;
}

/// Appends a v1 line (proxy-protocol 2.1): `PROXY TCP4|TCP6 src dst sport dport\r\n` for a
/// proxy command with inet or inet6 over stream, and `PROXY UNKNOWN\r\n` for anything else,
/// which v1 cannot express ("other, unsupported, or unknown protocols must be reported with
/// the name UNKNOWN"; LOCAL has no v1 form either). A v1 line carries no TLVs. At most
/// proxy_v1_max_line octets. IPv6 addresses are written as format_proxy_ip() does.
template <class Out>
void append_proxy_v1(Out& out, const proxy_header& h) {
    const bool tcp = h.command == proxy_command::proxy && h.transport == proxy_transport::stream &&
                     (h.family == proxy_family::inet || h.family == proxy_family::inet6);
    if (!tcp) {
        out.append("PROXY UNKNOWN\r\n", 15);
        return;
    }
    out.append(h.family == proxy_family::inet ? "PROXY TCP4 " : "PROXY TCP6 ", 11);
    const proxy_ip_text source = format_proxy_ip(h.family, h.source);
    out.append(source.text, source.length);
    out.append(" ", 1);
    const proxy_ip_text destination = format_proxy_ip(h.family, h.destination);
    out.append(destination.text, destination.length);
    out.append(" ", 1);
    detail::append_decimal(out, h.source.port);
    out.append(" ", 1);
    detail::append_decimal(out, h.destination.port);
    out.append("\r\n", 2);
}

namespace detail {

// How a v2 header will be laid out, decided before anything is written.
struct proxy_v2_plan {
    errc error = errc::ok;
    std::uint8_t command = 0x21; // version 2 and the command
    std::uint8_t fam = 0;        // family and transport
    proxy_family family = proxy_family::unspec;
    std::size_t crc_in_list = 0; // offset + 1 of the CRC32C value inside h.tlvs; 0: none
    bool add_crc = false;        // append a CRC32C TLV after h.tlvs
    std::size_t length = 0;      // the length field
};

[[nodiscard]] constexpr proxy_v2_plan plan_proxy_v2(const proxy_header& h, bool crc32c) noexcept {
    proxy_v2_plan plan;
    const auto family = static_cast<unsigned>(h.family);
    const auto transport = static_cast<unsigned>(h.transport);
    if (static_cast<unsigned>(h.command) > 1 || family > 3 || transport > 2 ||
        h.source.unix_path.size() > proxy_unix_path_size ||
        h.destination.unix_path.size() > proxy_unix_path_size || !h.tlvs.well_formed())
        return {errc::invalid_argument};
    plan.command = static_cast<std::uint8_t>(0x20u | static_cast<unsigned>(h.command));
    if (h.command == proxy_command::proxy && family != 0 && transport != 0) {
        plan.fam = static_cast<std::uint8_t>(family << 4 | transport);
        plan.family = h.family;
    }
    std::size_t crcs = 0;
    for (const proxy_tlv& tlv : h.tlvs) {
        if (tlv.type != proxy_tlv_type::crc32c) continue;
        if (tlv.value.size() != 4 || ++crcs > 1) return {errc::invalid_argument};
        plan.crc_in_list = static_cast<std::size_t>(tlv.value.data() - h.tlvs.encoded().data()) + 1;
    }
    plan.add_crc = crc32c && crcs == 0;
    plan.length =
        proxy_address_size(plan.family) + h.tlvs.encoded().size() + (plan.add_crc ? 7 : 0);
    if (plan.length > 0xFFFF) return {errc::invalid_argument};
    return plan;
}

template <class Out>
void put_be16(Out& out, std::size_t value) {
    const char octets[2] = {static_cast<char>(value >> 8 & 0xFFu),
                            static_cast<char>(value & 0xFFu)};
    out.append(octets, 2);
}

template <class Out>
void put_be32(Out& out, std::uint32_t value) {
    put_be16(out, value >> 16);
    put_be16(out, value & 0xFFFFu);
}

template <class Out>
void put_proxy_v2_addresses(Out& out, const proxy_header& h, proxy_family family) {
    if (family == proxy_family::unix_socket) {
        constexpr char zeros[proxy_unix_path_size] = {};
        out.append(h.source.unix_path.data(), h.source.unix_path.size());
        out.append(zeros, proxy_unix_path_size - h.source.unix_path.size());
        out.append(h.destination.unix_path.data(), h.destination.unix_path.size());
        out.append(zeros, proxy_unix_path_size - h.destination.unix_path.size());
        return;
    }
    if (family == proxy_family::unspec) return;
    const std::size_t width = family == proxy_family::inet ? 4 : 16;
    out.append(reinterpret_cast<const char*>(h.source.ip), width);
    out.append(reinterpret_cast<const char*>(h.destination.ip), width);
    put_be16(out, h.source.port);
    put_be16(out, h.destination.port);
}

// The whole header with `crc` as the CRC32C value (zeros while computing it).
template <class Out>
void put_proxy_v2(Out& out, const proxy_header& h, const proxy_v2_plan& plan, std::uint32_t crc) {
    out.append(proxy_v2_signature, sizeof proxy_v2_signature);
    const char head[2] = {static_cast<char>(plan.command), static_cast<char>(plan.fam)};
    out.append(head, 2);
    put_be16(out, plan.length);
    put_proxy_v2_addresses(out, h, plan.family);
    const std::string_view tlvs = h.tlvs.encoded();
    if (plan.crc_in_list != 0) {
        const std::size_t at = plan.crc_in_list - 1;
        out.append(tlvs.data(), at);
        put_be32(out, crc);
        out.append(tlvs.data() + at + 4, tlvs.size() - at - 4);
    } else {
        out.append(tlvs.data(), tlvs.size());
    }
    if (plan.add_crc) {
        out.append("\x03\x00\x04", 3);
        put_be32(out, crc);
    }
}

} // namespace detail

/// Appends a v2 header (proxy-protocol 2.2). A proxy command with a family and a transport
/// writes the addresses (inet and inet6 with ports; unix_socket paths of at most 108 octets,
/// NUL-padded); with unspec in either, or for LOCAL, none (family octet 0x00, as 2.2 asks of
/// senders). Then `h.tlvs` as they are, but for a CRC32C TLV, whose value is computed over
/// the header written (2.2.3): so a relayed header keeps a valid checksum. `crc32c` appends
/// a CRC32C TLV when `h.tlvs` has none. Errors: invalid_argument (an enum value out of range,
/// a UNIX path over 108 octets, TLVs that are not whole, a CRC32C TLV of other than 4 octets
/// or two of them, a length field over 65535); nothing is appended then.
template <class Out>
[[nodiscard]] errc append_proxy_v2(Out& out, const proxy_header& h, bool crc32c = false) {
    const detail::proxy_v2_plan plan = detail::plan_proxy_v2(h, crc32c);
    if (plan.error != errc::ok) return plan.error;
    std::uint32_t crc = 0;
    if (plan.add_crc || plan.crc_in_list != 0) {
        detail::crc32c_state sink;
        detail::put_proxy_v2(sink, h, plan, 0);
        crc = sink.value();
    }
    detail::put_proxy_v2(out, h, plan, crc);
    return errc::ok;
}

SMTPP_NAMESPACE_END

#endif // SMTPP_PROXY_HPP
