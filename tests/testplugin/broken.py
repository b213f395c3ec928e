"""A plugin whose import fails, for the 'broken plugin is skipped and reported' tests."""
raise ImportError("模拟的插件导入错误")
