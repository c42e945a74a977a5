/// \file
/// smtpp: a header-only C++17 Sans-IO SMTP/LMTP library. This umbrella header includes every
/// public header and nothing else; include only the headers you need to pay only for those.
// tests/hygiene/check_umbrella.cmake fails when a header in include/smtpp/ is missing here.

/// \namespace smtpp
/// Everything smtpp offers. Names in `smtpp::detail` are not part of the API.

#ifndef SMTPP_HPP
#define SMTPP_HPP

#include <smtpp/base64.hpp>
#include <smtpp/bdat.hpp>
#include <smtpp/client_config.hpp>
#include <smtpp/client_event.hpp>
#include <smtpp/client_session.hpp>
#include <smtpp/command.hpp>
#include <smtpp/data.hpp>
#include <smtpp/ehlo_reader.hpp>
#include <smtpp/ehlo_writer.hpp>
#include <smtpp/envelope.hpp>
#include <smtpp/error.hpp>
#include <smtpp/extensions.hpp>
#include <smtpp/grammar.hpp>
#include <smtpp/limits.hpp>
#include <smtpp/macros.hpp>
#include <smtpp/params.hpp>
#include <smtpp/printable.hpp>
#include <smtpp/proxy.hpp>
#include <smtpp/reply.hpp>
#include <smtpp/reply_reader.hpp>
#include <smtpp/sasl.hpp>
#include <smtpp/server_config.hpp>
#include <smtpp/server_event.hpp>
#include <smtpp/server_session.hpp>
#include <smtpp/status.hpp>
#include <smtpp/timeouts.hpp>
#include <smtpp/version.hpp>
#include <smtpp/xclient.hpp>

#endif // SMTPP_HPP
