package pki

import (
	"encoding/asn1"
	"encoding/pem"
)

type asn1BitString = asn1.BitString

func asn1Unmarshal(der []byte, v any) ([]byte, error) { return asn1.Unmarshal(der, v) }

func pemDecode(data []byte) (*pem.Block, []byte) { return pem.Decode(data) }
