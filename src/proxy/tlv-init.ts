// Builders for the TLVs our client and load generator may send, in the layouts tlv.ts decodes.

import type { ProxyTlvInit } from "./encode.ts";
import {
  PP2_TYPE_ALPN,
  PP2_TYPE_AUTHORITY,
  PP2_TYPE_AWS,
  PP2_TYPE_AZURE,
  PP2_TYPE_GCP,
  PP2_TYPE_NETNS,
  PP2_TYPE_NOOP,
  PP2_TYPE_SSL,
  PP2_TYPE_UNIQUE_ID,
} from "./tlv.ts";

const utf8 = new TextEncoder();

function bytes(v: Uint8Array | string): Uint8Array {
  return typeof v === "string" ? utf8.encode(v) : v;
}

export interface ProxySslInit {
  /** PP2_CLIENT_* bits; default 0x01 (PP2_CLIENT_SSL). */
  readonly client?: number;
  /** Default 0 (verified). */
  readonly verify?: number;
  /** Sub-TLVs (PP2_SUBTYPE_SSL_*), in order. */
  readonly sub?: readonly ProxyTlvInit[];
}

export const proxyTlv = {
  alpn: (protocol: string): ProxyTlvInit => ({ type: PP2_TYPE_ALPN, value: protocol }),
  authority: (host: string): ProxyTlvInit => ({ type: PP2_TYPE_AUTHORITY, value: host }),
  noop: (size: number): ProxyTlvInit => ({ type: PP2_TYPE_NOOP, value: new Uint8Array(size) }),
  uniqueId: (id: Uint8Array | string): ProxyTlvInit => ({ type: PP2_TYPE_UNIQUE_ID, value: id }),
  netns: (name: string): ProxyTlvInit => ({ type: PP2_TYPE_NETNS, value: name }),

  /** Section 2.2.6: client (1 byte), verify (uint32, network order), sub-TLVs. */
  ssl(init: ProxySslInit = {}): ProxyTlvInit {
    const subs = (init.sub ?? []).map((s) => ({ type: s.type, value: bytes(s.value) }));
    const out = new Uint8Array(5 + subs.reduce((n, s) => n + 3 + s.value.length, 0));
    const view = new DataView(out.buffer);
    out[0] = init.client ?? 0x01;
    view.setUint32(1, init.verify ?? 0);
    let at = 5;
    for (const s of subs) {
      out[at] = s.type;
      view.setUint16(at + 1, s.value.length);
      out.set(s.value, at + 3);
      at += 3 + s.value.length;
    }
    return { type: PP2_TYPE_SSL, value: out };
  },

  /** AWS: subtype 0x01 (PP2_SUBTYPE_AWS_VPCE_ID), then the endpoint id. */
  aws(vpceId: string): ProxyTlvInit {
    const id = utf8.encode(vpceId);
    const out = new Uint8Array(1 + id.length);
    out[0] = 0x01;
    out.set(id, 1);
    return { type: PP2_TYPE_AWS, value: out };
  },

  /** Azure: subtype 0x01 (PP2_SUBTYPE_AZURE_PRIVATEENDPOINT_LINKID), then the LINKID as uint32 LE. */
  azure(linkId: number): ProxyTlvInit {
    const out = new Uint8Array(5);
    out[0] = 0x01;
    new DataView(out.buffer).setUint32(1, linkId, true);
    return { type: PP2_TYPE_AZURE, value: out };
  },

  /** GCP: the 8-byte pscConnectionId in network order. */
  gcp(pscConnectionId: bigint): ProxyTlvInit {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, pscConnectionId, false);
    return { type: PP2_TYPE_GCP, value: out };
  },
};
