from reports.masking import mask_id, mask_phone, mask_value


def test_mask_id_18_and_15_digits():
    assert mask_id("110105199001011234") == "1101**********1234"
    assert mask_id("11010519900101123X") == "1101**********123X"
    m = mask_id("110105900101123")
    assert m.startswith("1101") and m.endswith("1123") and m.count("*") == 7 and len(m) == 15


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_phone("010-62345678").endswith("5678") and "6234" not in mask_phone("010-62345678")


def test_malformed_values_never_leak_in_full():
    assert mask_id("12345678901") != "12345678901"
    assert mask_id(None) == "" and mask_phone("") == ""
    assert mask_value(None, 5) == "5"
